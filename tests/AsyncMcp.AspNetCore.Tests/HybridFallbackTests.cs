using AsyncMcp.AspNetCore.Hybrid.Server;
using ModelContextProtocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A result whose webhook is down: on the open GET stream, else kept and sent when the client comes back, else discarded with an error logged.</summary>
public sealed class HybridFallbackTests
{
    private static void FastRetries(HybridServerTransportOptions o)
    {
        o.SendRetry.MaxAttempts = 2;
        o.SendRetry.BaseDelay = TimeSpan.FromMilliseconds(10);
        o.SendRetry.MaxDelay = TimeSpan.FromMilliseconds(20);
    }

    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task When_the_webhook_is_down_the_result_arrives_on_the_open_GET_stream(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode, FastRetries);
        var client = await harness.ConnectAsync(Protocols.November2025, o => o.WebhookUrl = new Uri(RawStreamableHttp.DeadWebhookUrl()));

        var result = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 2, ["delayMs"] = 10 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("done after 2 steps", HybridEndToEndTests.Text(result));
        await Eventually(() => harness.Logged("could not be delivered to"));
        await Eventually(() => harness.Logged("was sent on the session's GET stream instead of the webhook"));
    }

    [Fact]
    public async Task Without_a_webhook_or_a_stream_the_result_is_kept_and_sent_when_the_GET_stream_opens()
    {
        await using var harness = await HybridHarness.StartAsync(configure: FastRetries);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(RawStreamableHttp.DeadWebhookUrl());

        var call = await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\",\"arguments\":{\"steps\":1,\"delayMs\":1},\"_meta\":{\"asyncmcp/acknowledge\":true}}}");
        var ack = Assert.Single(call.Messages);
        Assert.Equal(7, (int)ack["id"]!);
        Assert.True((bool)ack["result"]!["_meta"]![Hybrid.HybridMeta.Accepted]!);
        await Eventually(() => harness.Logged("is undelivered"));

        var result = await raw.ReadGetStreamUntilAsync(m => m["id"] is { } id && (int)id == 7, TimeSpan.FromSeconds(30));

        Assert.Equal("done after 1 steps", (string)result["result"]!["content"]![0]!["text"]!);
        await Eventually(() => harness.Logged("was delivered on the GET stream"));
    }

    [Fact]
    public async Task A_refused_GET_does_not_count_as_an_open_stream_and_the_kept_result_waits_for_a_real_one()
    {
        await using var harness = await HybridHarness.StartAsync(configure: FastRetries);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(RawStreamableHttp.DeadWebhookUrl());
        await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\",\"arguments\":{\"steps\":1,\"delayMs\":1}}}");
        await Eventually(() => harness.Logged("is undelivered"));

        // The SDK answers this GET 406 with a JSON error body: a write, but no stream.
        var refused = await raw.GetRefusedAsync(accept: "application/json");
        Assert.Equal(System.Net.HttpStatusCode.NotAcceptable, refused.Status);
        Assert.False(harness.Logged($"GET stream of session {raw.SessionId} opened"));

        var result = await raw.ReadGetStreamUntilAsync(m => m["id"] is { } id && (int)id == 8, TimeSpan.FromSeconds(30));
        Assert.Equal("done after 1 steps", (string)result["result"]!["content"]![0]!["text"]!);
        await Eventually(() => harness.Logged($"GET stream of session {raw.SessionId} opened"));

        // The SDK allows one GET stream per session (without an event store): a second one is refused, and not counted.
        var second = await raw.GetRefusedAsync();
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, second.Status);
        Assert.Single(harness.Logs.Entries, e => e.Message.Contains($"GET stream of session {raw.SessionId} opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Beyond_MaxUndeliveredResultsPerSession_the_oldest_kept_result_is_discarded_with_an_error()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            FastRetries(o);
            o.MaxUndeliveredResultsPerSession = 2;
        });
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(RawStreamableHttp.DeadWebhookUrl());

        foreach (var id in new[] { 61, 62, 63 })
        {
            await raw.PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"slow\",\"arguments\":{{\"steps\":1,\"delayMs\":1}}}}}}");
            await Eventually(() => harness.Logged($"Result of request {id} (session {raw.SessionId}) is undelivered"));
        }

        Assert.Contains(harness.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("request 61 ", StringComparison.Ordinal) && e.Message.Contains("MaxUndeliveredResultsPerSession", StringComparison.Ordinal));
        var received = new List<int>();
        await raw.ReadGetStreamUntilAsync(
            m =>
            {
                if (m["id"] is { } id)
                {
                    received.Add((int)id);
                }

                return received.Count == 2;
            },
            TimeSpan.FromSeconds(30));
        Assert.Equal([62, 63], received);
    }

    [Fact]
    public async Task A_kept_result_goes_by_webhook_once_the_webhook_recovers_and_the_client_sends_something()
    {
        await using var harness = await HybridHarness.StartAsync(configure: FastRetries);
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        var feed = new Client.PushedReplyFeed("test connection");
        var deliveries = System.Threading.Channels.Channel.CreateUnbounded<Messaging.IInboundMessage>();
        feed.Start((message, cancellationToken) => deliveries.Writer.WriteAsync(message, cancellationToken).AsTask());
        using var registration = webhook.Receiver.Register("c1", feed);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(webhook.Url + "?client=c1");

        await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":64,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\",\"arguments\":{\"steps\":1,\"delayMs\":1}}}");
        await Eventually(() => harness.Logged("is undelivered"));
        webhook.Up = true;
        await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":65,\"method\":\"tools/list\",\"params\":{}}");

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var delivered = await deliveries.Reader.ReadAsync(cts.Token);
        Assert.False(deliveries.Reader.TryRead(out _));
        Assert.Contains("done after 1 steps", ((Messaging.PushedMessage)delivered).Body, StringComparison.Ordinal);

        // The server logs the recovery once the delivery's POST has returned, which is after the receiver handed it over.
        await Eventually(() => harness.Logged("Undelivered result of request 64") && harness.Logged("was delivered on webhook"));
    }

    [Fact]
    public async Task A_kept_result_is_discarded_with_an_error_when_its_retention_ends()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            FastRetries(o);
            o.UndeliveredResultRetention = TimeSpan.FromMilliseconds(300);
        });
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(RawStreamableHttp.DeadWebhookUrl());

        await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\",\"arguments\":{\"steps\":1,\"delayMs\":1}}}");

        await Eventually(() => harness.Logs.Entries.Any(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Message.Contains("request 3", StringComparison.Ordinal) && e.Message.Contains("its retention time ended", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_sessionless_result_kept_after_a_failed_delivery_is_sent_when_the_client_sends_anything_again()
    {
        await using var harness = await HybridHarness.StartAsync(configure: FastRetries);
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        var client = await harness.ConnectAsync(Protocols.July2026, webhook.Configure);
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(Protocols.July2026, client.NegotiatedProtocolVersion);
        Assert.Null(client.SessionId);

        var call = client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 }, cancellationToken: ct).AsTask();
        await Eventually(() => harness.Logged("is undelivered"));
        webhook.Up = true;

        // Any request naming the same webhook offers the kept result again: the sessionless client has no stream.
        _ = await client.ListToolsAsync(cancellationToken: ct);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.Equal("done after 1 steps", HybridEndToEndTests.Text(result));
        await Eventually(() => harness.Logged("was delivered on webhook"));
    }

    [Fact]
    public async Task A_kept_result_is_offered_to_the_webhook_once_more_when_its_retention_ends()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            FastRetries(o);
            o.UndeliveredResultRetention = TimeSpan.FromSeconds(1);
        });
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        var client = await harness.ConnectAsync(Protocols.July2026, webhook.Configure);
        var ct = TestContext.Current.CancellationToken;

        var call = client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 }, cancellationToken: ct).AsTask();
        await Eventually(() => harness.Logged("is undelivered"));
        webhook.Up = true;

        // The client sends nothing more; the last attempt at the end of the retention reaches it.
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.Equal("done after 1 steps", HybridEndToEndTests.Text(result));
        Assert.False(harness.Logged("its retention time ended"));
    }

    [Fact]
    public async Task A_webhook_result_that_never_arrives_fails_the_call_after_the_client_result_timeout_and_cancels_it()
    {
        await using var harness = await HybridHarness.StartAsync(configure: FastRetries);
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        var client = await harness.ConnectAsync(Protocols.July2026, o =>
        {
            webhook.Configure(o);
            o.ResultTimeout = TimeSpan.FromSeconds(1);
        });

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 }, cancellationToken: TestContext.Current.CancellationToken).AsTask());

        Assert.Contains("ResultTimeout", error.Message, StringComparison.Ordinal);
        Assert.Equal(McpErrorCode.InternalError, error.ErrorCode);

        // The client told the server it gave up, so the server drops the kept result instead of waiting for retention.
        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("was discarded", StringComparison.Ordinal) && e.Message.Contains("cancelled", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_webhook_URL_refused_by_the_policy_fails_initialize_with_a_clear_error()
    {
        await using var harness = await HybridHarness.StartAsync();

        var error = await Assert.ThrowsAnyAsync<McpException>(() => harness.ConnectAsync(Protocols.November2025, o => o.WebhookUrl = new Uri("http://169.254.169.254/latest/hook")));

        Assert.Contains("reply-address policy", error.Message, StringComparison.Ordinal);
        await Eventually(() => harness.Logged("was refused by the reply-address policy"));
    }

    [Fact]
    public async Task A_sessionless_client_with_a_refused_webhook_URL_gets_an_error_for_webhook_tools_only()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.AddressPolicy.AllowedHosts = ["hooks.example.com"]);
        var client = await harness.ConnectAsync(Protocols.July2026);
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 }, cancellationToken: ct).AsTask());
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: ct);

        Assert.Contains("reply-address policy", error.Message, StringComparison.Ordinal);
        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Equal("Echo: still here", HybridEndToEndTests.Text(echo));
        Assert.Equal(0, harness.State.SlowStarted);
    }
}
