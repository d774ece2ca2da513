using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// Batched deliveries: answers that wait at the same moment for a webhook that asks for batches go out in one POST
/// (a JSON array), webhooks that do not ask (asyncmcp's clients) get one message per POST, a batch refused as too large
/// goes again one answer per POST, and the client's receiver takes batches and refuses malformed ones clearly.
/// </summary>
public sealed class WebhookBatchDeliveryTests
{
    private const int Waiting = 5;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Answers_that_wait_for_one_webhook_go_out_in_one_post_only_when_its_url_asks_for_batches(bool asks)
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync(asks ? peer.WebhookUrl + "?asyncmcp-batch=1" : null);

        // The answer to 2 is held at the webhook; the answers to 3..7 are made meanwhile.
        var gate = await HoldTheAnswerTo2AndCall3To7Async(peer, sessionId);
        if (asks)
        {
            // They wait for the POST in flight to end...
            await Eventually(() => harness.Server.Batching!.WaitingCount == Waiting, what: "five answers waiting for the webhook");
        }
        else
        {
            // ...or, for a webhook that did not ask, each goes out in its own POST at once.
            await Eventually(() => peer.Deliveries.Count(d => d.Body is JsonObject o && (int?)o["id"] >= 3) == Waiting, what: "five single deliveries");
        }

        gate.TrySetResult();
        await peer.WaitForDeliveryAsync(2);
        if (asks)
        {
            // ...and then go together, with the session's header, each answer whole.
            await Eventually(() => peer.Deliveries.Any(d => d.Body is JsonArray), what: "a batched delivery");
            var batch = Assert.Single(peer.Deliveries, d => d.Body is JsonArray);
            Assert.Equal(sessionId, batch.Headers["X-Session-ID"]);
            var answers = batch.Body.AsArray().Select(a => a!.AsObject()).ToList();
            Assert.Equal(Enumerable.Range(3, Waiting), answers.Select(a => (int)a["id"]!).Order());
            Assert.All(answers, a => Assert.Equal("Echo: x", (string?)a["result"]!["content"]![0]!["text"]));
        }
        else
        {
            Assert.DoesNotContain(peer.Deliveries, d => d.Body is JsonArray);
            Assert.Equal(Enumerable.Range(2, Waiting + 1), peer.Deliveries.Select(d => (int?)d.Body["id"]).OfType<int>().Where(id => id >= 2).Order());
        }
    }

    [Fact]
    public async Task A_batch_refused_as_too_large_goes_again_one_answer_per_post()
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var refusedBatches = 0;
        var sessionId = await peer.OpenSessionAsync(peer.WebhookUrl + "?asyncmcp-batch=1");
        var gate = await HoldTheAnswerTo2AndCall3To7Async(peer, sessionId, refuse: body =>
        {
            if (body is not JsonArray)
            {
                return null;
            }

            Interlocked.Increment(ref refusedBatches);
            return 413;
        });

        await Eventually(() => harness.Server.Batching!.WaitingCount == Waiting, what: "five answers waiting for the webhook");
        gate.TrySetResult();

        for (var id = 2; id < 3 + Waiting; id++)
        {
            Assert.Equal("Echo: x", (string?)(await peer.WaitForDeliveryAsync(id)).Body["result"]!["content"]![0]!["text"]);
        }

        Assert.Equal(1, Volatile.Read(ref refusedBatches));
        Assert.DoesNotContain(peer.Deliveries, d => d.Body is JsonArray);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Our_client_takes_batched_answers_and_each_call_gets_its_own(string protocolVersion)
    {
        await using var harness = await WebhookHarness.StartAsync();

        // The client receives on a webhook of its own, which holds the first answer of the calls below until the others
        // wait for it, and notes which deliveries were batches.
        var webhook = harness.Own(await HoldingWebhook.StartAsync(harness));
        var client = await webhook.ConnectAsync(harness, protocolVersion);

        var first = client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "first" }, cancellationToken: Timeout).AsTask();
        await Eventually(() => webhook.Holding == 1, what: "the first answer held at the webhook");
        var rest = Enumerable.Range(0, Waiting)
            .Select(i => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"call {i}" }, cancellationToken: Timeout).AsTask())
            .ToArray();
        await Eventually(() => harness.Server.Batching!.WaitingCount == Waiting, what: "five answers waiting for the webhook");
        webhook.Release();

        Assert.Equal("Echo: first", Text(await first));
        var answers = await Task.WhenAll(rest);
        Assert.Equal(Enumerable.Range(0, Waiting).Select(i => $"Echo: call {i}"), answers.Select(Text));
        Assert.Equal([Waiting], webhook.Batches.ToArray());
    }

    [Fact]
    public async Task A_client_that_turns_batches_off_names_a_plain_url_and_gets_its_answers_one_per_post()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var webhook = harness.Own(await HoldingWebhook.StartAsync(harness));
        var client = await webhook.ConnectAsync(harness, Protocols.November2025, o => o.AcceptBatchedDeliveries = false);
        Assert.DoesNotContain("asyncmcp-batch", webhook.Address, StringComparison.Ordinal);

        // While the first answer is held, the others pass it: each has a POST of its own.
        var first = client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "first" }, cancellationToken: Timeout).AsTask();
        await Eventually(() => webhook.Holding == 1, what: "the first answer held at the webhook");
        for (var i = 0; i < Waiting; i++)
        {
            Assert.Equal($"Echo: call {i}", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"call {i}" }, cancellationToken: Timeout)));
        }

        Assert.False(first.IsCompleted);
        Assert.Equal(0, harness.Server.Batching!.WaitingCount);
        webhook.Release();
        Assert.Equal("Echo: first", Text(await first));
    }

    [Theory]
    [InlineData("[]", "the batch is empty")]
    [InlineData("[1, 2]", "element 0 of the batch is not a JSON object")]
    [InlineData("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "not valid JSON")]
    [InlineData("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}] []", "not valid JSON")]
    public async Task A_malformed_batch_gets_400_with_the_reason_and_the_connection_keeps_working(string body, string reason)
    {
        await using var harness = await WebhookHarness.StartAsync();
        var webhook = harness.Own(await HoldingWebhook.StartAsync(harness));
        var client = await webhook.ConnectAsync(harness, Protocols.November2025);
        var address = webhook.Address;
        Assert.NotNull(address);
        Assert.Contains("asyncmcp-batch=1", address, StringComparison.Ordinal);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, address) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var signer = new WebhookSigner(WebhookSecret.Parse(harness.Secret, "secret"));
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        request.Headers.Add(StandardWebhookHeaders.Id, id);
        request.Headers.Add(StandardWebhookHeaders.Timestamp, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhookHeaders.Signature, signer.Sign(id, now, Encoding.UTF8.GetBytes(body)));
        using var response = await http.SendAsync(request, Timeout);

        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Timeout))!;
        Assert.Contains("not a valid batch", (string?)error["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains(reason, (string?)error["error"]!["message"], StringComparison.Ordinal);

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Timeout);
        Assert.Equal("Echo: still here", Text(result));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/hook?client=abc&asyncmcp-batch=1", true)]
    [InlineData("http://127.0.0.1:5000/hook?asyncmcp-batch=1&client=abc", true)]
    [InlineData("http://127.0.0.1:5000/hook?asyncmcp-batch=1#x", true)]
    [InlineData("http://127.0.0.1:5000/hook?client=abc", false)]
    [InlineData("http://127.0.0.1:5000/hook?asyncmcp-batch=10", false)]
    [InlineData("http://127.0.0.1:5000/hook?x-asyncmcp-batch=1", false)]
    [InlineData("http://127.0.0.1:5000/hook?asyncmcp-batch=0", false)]
    [InlineData("http://127.0.0.1:5000/asyncmcp-batch=1/hook", false)]
    [InlineData("http://127.0.0.1:5000/hook#?asyncmcp-batch=1", false)]
    public void Only_the_exact_query_parameter_asks_for_batches(string address, bool asks) =>
        Assert.Equal(asks, AsyncMcp.AspNetCore.Webhooks.WebhookBatches.AreAcceptedBy(address));

    /// <summary>
    /// Holds the delivery of the answer to request 2 at the peer's webhook until the returned gate opens, and meanwhile
    /// calls 3 to 7; <paramref name="refuse"/> may answer other deliveries with a status code instead.
    /// </summary>
    private static async Task<TaskCompletionSource> HoldTheAnswerTo2AndCall3To7Async(RawWebhookPeer peer, string sessionId, Func<JsonNode, int?>? refuse = null)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Intercept = async body =>
        {
            if (refuse?.Invoke(body) is { } status)
            {
                return status;
            }

            if (body is JsonObject single && (int?)single["id"] == 2)
            {
                held.TrySetResult();
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }

            return null;
        };

        Assert.Equal(200, (await peer.PostAsync(Call(2), sessionId)).Status);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30), Timeout);
        for (var id = 3; id < 3 + Waiting; id++)
        {
            Assert.Equal(200, (await peer.PostAsync(Call(id), sessionId)).Status);
        }

        return gate;
    }

    private static string? Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static JsonObject Call(int id) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "tools/call",
        ["params"] = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "x" } },
    };

    /// <summary>
    /// A client's webhook mounted in an app of its own (127.0.0.1, a free port): notes the full address of the first
    /// delivery and the size of every batch, and holds the first delivery of the answer "Echo: first" until released.
    /// </summary>
    private sealed class HoldingWebhook : IAsyncDisposable
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly WebhookReceiver _receiver;
        private WebApplication? _app;
        private int _holding;
        private string? _address;

        private HoldingWebhook(string secret) => _receiver = new WebhookReceiver(new() { Secret = secret });

        /// <summary>The full URL of the first delivery (the connection's webhook address).</summary>
        public string? Address => Volatile.Read(ref _address);

        /// <summary>How many deliveries of the answer "Echo: first" came (the first is held).</summary>
        public int Holding => Volatile.Read(ref _holding);

        /// <summary>The number of answers in each batched delivery.</summary>
        public ConcurrentQueue<int> Batches { get; } = new();

        public static async Task<HoldingWebhook> StartAsync(WebhookHarness harness)
        {
            var webhook = new HoldingWebhook(harness.Secret);
            webhook._app = await WebhookHarness.StartAppAsync(app => app.MapPost("/hook", webhook.HandleAsync));
            return webhook;
        }

        public Task<ModelContextProtocol.Client.McpClient> ConnectAsync(WebhookHarness harness, string protocolVersion, Action<WebhookClientTransportOptions>? configure = null) =>
            harness.ConnectAsync(protocolVersion, o =>
            {
                o.Receiver = _receiver;
                o.WebhookUrl = new Uri(WebhookHarness.BoundAddress(_app!) + "/hook");
                configure?.Invoke(o);
            });

        public void Release() => _gate.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            if (_app is not null)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }

        private async Task HandleAsync(HttpContext context)
        {
            Interlocked.CompareExchange(ref _address, $"http://{context.Request.Host}{context.Request.Path}{context.Request.QueryString}", null);
            context.Request.EnableBuffering();
            JsonNode? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (System.Text.Json.JsonException)
            {
                // Malformed on purpose: the receiver refuses it.
                body = null;
            }

            context.Request.Body.Position = 0;
            if (body is JsonArray array)
            {
                Batches.Enqueue(array.Count);
            }
            else if (body is JsonObject answer && (string?)answer["result"]?["content"]?[0]?["text"] == "Echo: first" && Interlocked.Increment(ref _holding) == 1)
            {
                await _gate.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }

            await _receiver.HandleAsync(context);
        }
    }
}
