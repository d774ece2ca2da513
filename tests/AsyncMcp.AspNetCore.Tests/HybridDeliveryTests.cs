using System.Net;
using AsyncMcp.AspNetCore.Hybrid.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// How webhook calls and their deliveries behave when things go wrong: a webhook that is down, a session that ends
/// while a result is on its way, a server that stops, an idle session, too many calls, a misnamed tool.
/// </summary>
public sealed class HybridDeliveryTests
{
    private const string SlowCall = "{\"jsonrpc\":\"2.0\",\"id\":ID,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\",\"arguments\":{\"steps\":STEPS,\"delayMs\":1},\"_meta\":{\"progressToken\":\"pID\"}}}";

    private static string Slow(int id, int steps = 1) => SlowCall.Replace("ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("STEPS", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static bool Discarded(HybridHarness harness, int requestId, string why) => harness.Logs.Entries.Any(e =>
        e.Level == LogLevel.Error && e.Message.Contains($"request {requestId} ", StringComparison.Ordinal) && e.Message.Contains("was discarded", StringComparison.Ordinal) && e.Message.Contains(why, StringComparison.Ordinal));

    [Fact]
    public async Task Progress_to_a_webhook_that_is_down_gets_one_attempt_so_the_result_falls_back_promptly()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            o.SendRetry.MaxAttempts = 3;
            o.SendRetry.BaseDelay = TimeSpan.FromMilliseconds(10);
            o.SendRetry.MaxDelay = TimeSpan.FromMilliseconds(20);
        });
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(webhook.Url.ToString());

        // Five progress notices with no GET stream open go by webhook; the webhook answers 503.
        await raw.PostAsync(Slow(21, steps: 5));
        await Eventually(() => harness.Logged("Result of request 21 (session") && harness.Logged("is undelivered"));

        // One attempt for the first notice (the rest are skipped while the webhook is known to be down), three for the
        // result: not three for every notice, each of which the result would wait behind.
        Assert.Equal(1 + 3, webhook.Refused);
        await Eventually(() => harness.Logged("was not sent: a delivery to"));
    }

    [Fact]
    public async Task A_result_that_finishes_after_its_session_ended_is_logged_as_discarded()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            o.SendRetry.MaxAttempts = 4;
            o.SendRetry.BaseDelay = TimeSpan.FromMilliseconds(300);
            o.SendRetry.MaxDelay = TimeSpan.FromMilliseconds(300);
        });
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(webhook.Url.ToString());

        await raw.PostAsync(Slow(22));
        await Eventually(() => webhook.Refused >= 1);
        var deleted = await raw.DeleteAsync();
        Assert.Equal(HttpStatusCode.OK, deleted.Status);

        // The delivery was still being retried when the session ended: its final failure must not leave the result on
        // a session nobody looks at any more.
        await Eventually(() => Discarded(harness, 22, "its session has ended"));
    }

    [Fact]
    public async Task Results_being_redelivered_when_the_server_stops_are_each_logged_as_discarded()
    {
        var harness = await HybridHarness.StartAsync(configure: o =>
        {
            o.SendRetry.MaxAttempts = 1;
            o.DeliveryTimeout = TimeSpan.FromMinutes(5);
        });
        try
        {
            await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: false);
            using var raw = new RawStreamableHttp(harness.Url);
            await raw.InitializeAsync(webhook.Url.ToString());
            await raw.PostAsync(Slow(23));
            await raw.PostAsync(Slow(24));
            await Eventually(() => harness.Logs.Entries.Count(e => e.Message.Contains("is undelivered", StringComparison.Ordinal)) == 2);

            // The client comes back: the kept results are offered to the webhook again, which now answers nothing.
            webhook.Hang = true;
            await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":25,\"method\":\"tools/list\",\"params\":{}}");
            await Eventually(() => webhook.Held >= 1);

            await harness.StopAsync();

            // Whether the session's end or the delivery's disposal got to it first, each is accounted for.
            Assert.True(Discarded(harness, 23, string.Empty), "the result being redelivered");
            Assert.True(Discarded(harness, 24, string.Empty), "the result waiting its turn");
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stopping_the_server_cancels_running_webhook_calls_and_waits_for_them()
    {
        await using var harness = await HybridHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.July2026);
        var call = client.CallToolAsync("hold", cancellationToken: TestContext.Current.CancellationToken).AsTask();
        await Eventually(() => harness.State.RunningHolds == 1);

        await harness.StopAsync();

        // Drained, not abandoned: the tool has ended by the time the server has stopped, and the log says why.
        Assert.Equal(0, harness.State.RunningHolds);
        await Eventually(() => harness.Logged("Tool 'hold'") && harness.Logged("was stopped because the server is stopping; no result is sent."));
        Assert.False(call.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_webhook_call_outlives_its_sessions_idle_expiry_and_still_delivers_its_result()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var harness = await HybridHarness.StartAsync(configureHttp: o =>
        {
            o.TimeProvider = clock;
#pragma warning disable MCP9006 // The idle timeout of stateful sessions is what is under test.
            o.IdleTimeout = TimeSpan.FromMinutes(1);
#pragma warning restore MCP9006
        });
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: true);
        using var busy = new RawStreamableHttp(harness.Url);
        await busy.InitializeAsync(webhook.Url.ToString());
        var echo = "{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"x\"}}}";

        var ack = await busy.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"tools/call\",\"params\":{\"name\":\"hold\",\"arguments\":{}}}");
        Assert.Equal(HttpStatusCode.OK, ack.Status);
        await Eventually(() => harness.State.RunningHolds == 1);

        // Time passes well beyond the idle timeout (the SDK checks every 5 s): nothing holds an SDK session active between
        // requests, so the SDK closes it, but not the webhook call running for it.
        await Eventually(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            return harness.Logged($"Closing idle session {busy.SessionId}");
        });

        await Eventually(() => harness.Logged($"Session {busy.SessionId} ended (idle) while 1 webhook calls ran"));
        Assert.Equal(HttpStatusCode.NotFound, (await busy.PostAsync(echo)).Status);
        Assert.Equal(1, harness.State.RunningHolds);
        Assert.False(harness.Logged("was stopped because its session ended"));

        var accepted = webhook.Accepted;
        harness.State.ReleaseHolds.TrySetResult();
        await Eventually(() => webhook.Accepted > accepted);
    }

    [Fact]
    public async Task Closing_a_session_stops_its_webhook_calls()
    {
        await using var harness = await HybridHarness.StartAsync();
        await using var webhook = await SwitchableWebhook.StartAsync(harness.Secret, up: true);
        using var client = new RawStreamableHttp(harness.Url);
        await client.InitializeAsync(webhook.Url.ToString());
        var ack = await client.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":40,\"method\":\"tools/call\",\"params\":{\"name\":\"hold\",\"arguments\":{}}}");
        Assert.Equal(HttpStatusCode.OK, ack.Status);
        await Eventually(() => harness.State.RunningHolds == 1);

        // The client wants nothing more from the session: its running call is cancelled, and no result is sent.
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync()).Status);

        await Eventually(() => harness.State.RunningHolds == 0);
        await Eventually(() => harness.Logged("Tool 'hold'") && harness.Logged("was stopped because its session ended; no result is sent."));
    }

    [Fact]
    public async Task Webhook_calls_beyond_the_per_session_limit_get_a_clear_error_and_the_session_keeps_working()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.MaxConcurrentWebhookCallsPerSession = 1);
        var client = await harness.ConnectAsync(Protocols.November2025);
        var ct = TestContext.Current.CancellationToken;
        var first = client.CallToolAsync("hold", cancellationToken: ct).AsTask();
        await Eventually(() => harness.State.RunningHolds == 1);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("hold", cancellationToken: ct).AsTask());
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "fine" }, cancellationToken: ct);

        Assert.Equal(-32000, (int)refused.ErrorCode);
        Assert.Contains("MaxConcurrentWebhookCallsPerSession", refused.Message, StringComparison.Ordinal);
        Assert.Equal("Echo: fine", HybridEndToEndTests.Text(echo));
        harness.State.ReleaseHolds.TrySetResult();
        Assert.Equal("released", HybridEndToEndTests.Text(await first.WaitAsync(TimeSpan.FromSeconds(30), ct)));
    }

    [Fact]
    public async Task Webhook_calls_beyond_the_server_wide_limit_get_a_clear_error()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o =>
        {
            o.MaxConcurrentWebhookCalls = 1;
            o.MaxConcurrentWebhookCallsPerSession = 1;
        });
        var one = await harness.ConnectAsync(Protocols.November2025);
        var other = await harness.ConnectAsync(Protocols.July2026);
        var ct = TestContext.Current.CancellationToken;
        var first = one.CallToolAsync("hold", cancellationToken: ct).AsTask();
        await Eventually(() => harness.State.RunningHolds == 1);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => other.CallToolAsync("hold", cancellationToken: ct).AsTask());

        Assert.Equal(-32000, (int)refused.ErrorCode);
        Assert.Contains("MaxConcurrentWebhookCalls", refused.Message, StringComparison.Ordinal);
        harness.State.ReleaseHolds.TrySetResult();
        await first.WaitAsync(TimeSpan.FromSeconds(30), ct);
    }

    [Fact]
    public async Task A_webhook_tool_name_that_matches_no_tool_is_reported_at_start()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.WebhookTools.Add("sloww"));

        Assert.Contains(harness.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("WebhookTools names sloww, which match no registered tool", StringComparison.Ordinal));
    }

    [Fact]
    public void A_retired_sessionless_entry_takes_no_more_calls_or_results()
    {
        var session = new HybridSession("webhook:http://127.0.0.1:1/hook", sessionId: null, "http://127.0.0.1:1/hook");
        Assert.True(session.TryRetire());

        using var call = new WebhookCall("slow", new ModelContextProtocol.Protocol.RequestId(1), session, "http://127.0.0.1:1/hook", CancellationToken.None);
        Assert.Equal(CallAdmission.Closed, session.TryAddCall(call, max: 10));
        Assert.False(session.TryKeep(new KeptResult(new ModelContextProtocol.Protocol.JsonRpcResponse { Id = call.RequestId, Result = null }, new Messaging.OutboundMessage("{}", new Dictionary<string, string>()), call.WebhookUrl, DateTimeOffset.MaxValue), 10, out _));
    }
}
