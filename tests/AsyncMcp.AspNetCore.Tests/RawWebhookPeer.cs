using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Testing.Conformance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A client written with plain HTTP, to send exactly the bytes and headers a test wants, and a real Kestrel webhook
/// (127.0.0.1, free port) that records every delivery it gets.
/// </summary>
public sealed class RawWebhookPeer : RawPeer
{
    private readonly HashSet<Delivery> _received = [];
    private readonly HttpClient _http = new();
    private readonly WebhookSigner? _signer;
    private readonly WebApplication _webhook;

    private RawWebhookPeer(Uri serverUrl, string? secret, WebApplication webhook, ConcurrentQueue<Delivery> deliveries)
    {
        ServerUrl = serverUrl;
        _signer = secret is null ? null : new WebhookSigner(WebhookSecret.Parse(secret, "secret"));
        _webhook = webhook;
        Deliveries = deliveries;
        WebhookUrl = WebhookHarness.BoundAddress(webhook) + "/hook";
    }

    public Uri ServerUrl { get; }

    public string WebhookUrl { get; }

    public string ClientId { get; } = "raw-" + Guid.NewGuid().ToString("N")[..8];

    public ConcurrentQueue<Delivery> Deliveries { get; }

    /// <summary>
    /// Sees each delivery before it is recorded: returns a status code to answer with instead (the delivery is then not
    /// recorded), or <see langword="null"/> to take it. A test makes the webhook fail or hang with it.
    /// </summary>
    public Func<JsonNode, Task<int?>>? Intercept { get; set; }

    public static async Task<RawWebhookPeer> StartAsync(Uri serverUrl, string? secret)
    {
        var deliveries = new ConcurrentQueue<Delivery>();
        RawWebhookPeer? peer = null;
        var app = await WebhookHarness.StartAppAsync(app => app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
            if (peer?.Intercept is { } intercept && await intercept(body) is { } status)
            {
                return Results.StatusCode(status);
            }

            deliveries.Enqueue(new Delivery(body, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return Results.Json(new { status = "success" });
        }));
        peer = new RawWebhookPeer(serverUrl, secret, app, deliveries);
        return peer;
    }

    public JsonObject Initialize(int id = 1, string? webhookUrl = null) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "initialize",
        ["params"] = new JsonObject
        {
            ["protocolVersion"] = "2025-11-25",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
            ["_meta"] = new JsonObject { ["webhookUrl"] = webhookUrl ?? WebhookUrl },
        },
    };

    /// <summary>POSTs a body with the given headers, signed unless told otherwise.</summary>
    public Task<(int Status, JsonNode? Json, HttpResponseMessage Response)> PostAsync(
        string body,
        string? sessionId = null,
        bool sign = true,
        bool clientIdHeader = true,
        string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null) =>
        PostBytesAsync(Encoding.UTF8.GetBytes(body), sessionId, sign, clientIdHeader, contentType, headers);

    /// <summary>POSTs a body given as bytes (which need not be UTF-8), signed unless told otherwise.</summary>
    public async Task<(int Status, JsonNode? Json, HttpResponseMessage Response)> PostBytesAsync(
        byte[] body,
        string? sessionId = null,
        bool sign = true,
        bool clientIdHeader = true,
        string contentType = "application/json",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ServerUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (clientIdHeader)
        {
            request.Headers.Add("X-Client-ID", ClientId);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        if (sessionId is not null)
        {
            request.Headers.Add("X-Session-ID", sessionId);
        }

        if (sign)
        {
            Sign(request, body);
        }

        var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public Task<(int Status, JsonNode? Json, HttpResponseMessage Response)> PostAsync(JsonNode message, string? sessionId = null, IReadOnlyDictionary<string, string>? headers = null) =>
        PostAsync(message.ToJsonString(), sessionId, headers: headers);

    /// <summary>POSTs a body without a Content-Length (chunked transfer), unsigned.</summary>
    public async Task<(int Status, JsonNode? Json)> PostChunkedAsync(string body, string sessionId, string? requestIdHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ServerUrl) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("X-Client-ID", ClientId);
        request.Headers.Add("X-Session-ID", sessionId);
        if (requestIdHeader is not null)
        {
            request.Headers.Add("X-Request-ID", requestIdHeader);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>DELETEs a session, signed unless told otherwise; returns the status code.</summary>
    public async Task<int> DeleteAsync(string? sessionId, bool sign = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, ServerUrl);
        request.Headers.Add("X-Client-ID", ClientId);
        if (sessionId is not null)
        {
            request.Headers.Add("X-Session-ID", sessionId);
        }

        if (sign)
        {
            Sign(request, []);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>Opens a session: initialize, wait for its answer, notifications/initialized.</summary>
    public async Task<string> OpenSessionAsync(string? webhookUrl = null)
    {
        var (status, json, _) = await PostAsync(Initialize(webhookUrl: webhookUrl));
        Assert.Equal(200, status);
        var sessionId = (string)json!["session_id"]!;
        await WaitForDeliveryAsync(1);
        await PostAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }, sessionId);
        return sessionId;
    }

    public async Task<Delivery> WaitForDeliveryAsync(int id)
    {
        // A batched delivery (a JSON array) is not one of these: a test that asks for batches looks at it itself.
        await Eventually(() => Deliveries.Any(d => d.Body is JsonObject o && (int?)o["id"] == id), what: $"A delivery for request {id}");
        return Deliveries.First(d => d.Body is JsonObject o && (int?)o["id"] == id);
    }

    public override string ReplyAddressKey => "webhookUrl";

    public override string ReplyAddress => WebhookUrl;

    public override Task<string> OpenSessionAsync() => OpenSessionAsync(webhookUrl: null);

    public override async Task<RawAnswer> SendAsync(RawRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.ProtocolVersion is { } version ? new Dictionary<string, string> { ["X-Protocol-Version"] = version } : null;
        var (status, json, _) = await PostAsync(request.Body, request.SessionId, headers: headers);
        return new RawAnswer(status, json as JsonObject);
    }

    /// <summary>The next delivery to the webhook (not yet received) that matches.</summary>
    public override async Task<JsonObject> ReceiveAsync(Func<JsonObject, bool> match, TimeSpan? deadline = null)
    {
        Delivery? found = null;
        await Eventually(
            () =>
            {
                lock (_received)
                {
                    found = Deliveries.FirstOrDefault(d => !_received.Contains(d) && d.Body is JsonObject body && match(body));
                    return found is not null && _received.Add(found);
                }
            },
            deadline,
            "A matching delivery to the webhook");
        return found!.Body.AsObject();
    }

    public override async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _webhook.StopAsync();
        await _webhook.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Adds the Standard Webhooks headers for <paramref name="body"/>, when the peer has a secret.</summary>
    private void Sign(HttpRequestMessage request, byte[] body)
    {
        if (_signer is null)
        {
            return;
        }

        var id = "msg_" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        request.Headers.Add(StandardWebhookHeaders.Id, id);
        request.Headers.Add(StandardWebhookHeaders.Timestamp, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhookHeaders.Signature, _signer.Sign(id, now, body));
    }

    public sealed record Delivery(JsonNode Body, IReadOnlyDictionary<string, string> Headers);
}
