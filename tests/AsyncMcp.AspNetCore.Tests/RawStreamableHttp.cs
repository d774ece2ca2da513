using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>Plain HTTP against a Streamable HTTP endpoint, as a client other than the SDK's would speak it.</summary>
internal sealed class RawStreamableHttp(Uri endpoint) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public string? SessionId { get; set; }

    public Task<(HttpStatusCode Status, string? ContentType, List<JsonObject> Messages, string Body)> PostAsync(
        string body,
        string contentType = "application/json",
        string accept = "application/json, text/event-stream",
        string protocolVersion = "2025-11-25",
        IReadOnlyDictionary<string, string>? headers = null) =>
        PostBytesAsync(Encoding.UTF8.GetBytes(body), contentType, accept, protocolVersion, headers);

    /// <summary>POSTs a body given as bytes, which need not be UTF-8.</summary>
    public async Task<(HttpStatusCode Status, string? ContentType, List<JsonObject> Messages, string Body)> PostBytesAsync(
        byte[] body,
        string contentType = "application/json",
        string accept = "application/json, text/event-stream",
        string protocolVersion = "2025-11-25",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", protocolVersion);
        if (SessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", SessionId);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        if (response.Headers.TryGetValues("Mcp-Session-Id", out var ids))
        {
            SessionId = ids.First();
        }

        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var messages = new List<JsonObject>();
        if (mediaType == "text/event-stream")
        {
            var parser = SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(text)));
            foreach (var item in parser.Enumerate())
            {
                if (item.Data.Length > 0 && JsonNode.Parse(item.Data) is JsonObject message)
                {
                    messages.Add(message);
                }
            }
        }
        else if (mediaType == "application/json" && text.Length > 0 && JsonNode.Parse(text) is JsonObject single)
        {
            messages.Add(single);
        }

        return (response.StatusCode, mediaType, messages, text);
    }

    public async Task InitializeAsync(string? webhookUrl, string capabilities = "{}")
    {
        var meta = webhookUrl is null ? string.Empty : $",\"_meta\":{{\"webhookUrl\":\"{webhookUrl}\"}}";
        var init = await PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{capabilities},\"clientInfo\":{{\"name\":\"raw\",\"version\":\"1\"}}{meta}}}}}");
        Assert.Equal(HttpStatusCode.OK, init.Status);
        Assert.NotNull(SessionId);
        var initialized = await PostAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
        Assert.Equal(HttpStatusCode.Accepted, initialized.Status);
    }

    /// <summary>DELETEs the session (or the given session id).</summary>
    public async Task<(HttpStatusCode Status, string Body)> DeleteAsync(string? sessionId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, endpoint);
        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", sessionId ?? SessionId);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>A GET that is expected to be refused: returns its status and body.</summary>
    public async Task<(HttpStatusCode Status, string? ContentType, string Body)> GetRefusedAsync(string accept = "text/event-stream", string? sessionId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", sessionId ?? SessionId);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Opens the session's GET stream and returns the first message that matches.</summary>
    public async Task<JsonObject> ReadGetStreamUntilAsync(Func<JsonObject, bool> match, TimeSpan timeout, string? lastEventId = null) =>
        (await ReadGetStreamAsync(match, timeout, lastEventId)).Message!;

    /// <summary>
    /// Opens the session's GET stream (resuming after <paramref name="lastEventId"/> when given) and reads until a
    /// message matches, or, with no <paramref name="match"/>, until the first event (an event store's priming event).
    /// Returns the message and the id of the last event read.
    /// </summary>
    public async Task<(JsonObject? Message, string? LastEventId)> ReadGetStreamAsync(Func<JsonObject, bool>? match, TimeSpan timeout, string? lastEventId = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", SessionId);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        string? last = null;
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cts.Token))
        {
            last = string.IsNullOrEmpty(item.EventId) ? last : item.EventId;
            if (match is null)
            {
                return (null, last);
            }

            if (item.Data.Length > 0 && JsonNode.Parse(item.Data) is JsonObject message && match(message))
            {
                return (message, last);
            }
        }

        throw new InvalidOperationException("The GET stream ended without the expected message.");
    }

    /// <summary>A loopback URL on which nothing listens (a port that was just free).</summary>
    public static string DeadWebhookUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/hook";
    }

    public void Dispose() => _http.Dispose();
}
