using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A 30-second tool by webhook with progress on the way, while fast calls on the same session keep answering at once.</summary>
public sealed class HybridLongRunningTests
{
    [Fact]
    public async Task A_thirty_second_tool_reports_progress_along_the_way_and_its_result_arrives_by_webhook()
    {
        // Both revisions and both response modes at once, so the suite waits 30 s only once.
        await Task.WhenAll(
            RunAsync(Protocols.November2025, HybridResponseMode.Sse),
            RunAsync(Protocols.July2026, HybridResponseMode.Json));
    }

    private static async Task RunAsync(string protocol, HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        var observed = new ObservingClientTransport(new Hybrid.Client.HybridClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory));
        var client = await harness.ConnectAsync(protocol, observed);
        HybridEndToEndTests.AssertNegotiated(client, protocol);
        var ct = TestContext.Current.CancellationToken;
        var progress = new ConcurrentQueue<(ProgressNotificationValue Value, TimeSpan At)>();
        var clock = Stopwatch.StartNew();

        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 30, ["delayMs"] = 1000 },
            new SynchronousProgress(p => progress.Enqueue((p, clock.Elapsed))),
            cancellationToken: ct).AsTask();

        // While it runs, the session answers other calls at once.
        await Eventually(() => !progress.IsEmpty, TimeSpan.FromSeconds(10));
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "meanwhile" }, cancellationToken: ct);
        Assert.Equal("Echo: meanwhile", HybridEndToEndTests.Text(echo));
        Assert.False(call.IsCompleted);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(90), ct);

        Assert.Equal("done after 30 steps", HybridEndToEndTests.Text(result));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(30));
        await Eventually(() => harness.Logged("was delivered by webhook"));
        // IProgress.Report in a tool is fire-and-forget, so the last notice may trail the result (docs/delivery.md); every
        // earlier one comes before it, and the last one still arrives.
        Assert.Equal(Enumerable.Range(1, 29).Select(i => (double)i), observed.ProgressBefore("done after 30 steps")!.Take(29));
        await Eventually(() => observed.Received.OfType<JsonRpcNotification>().Count(n => n.Method == NotificationMethods.ProgressNotification) == 30);
        Assert.True(progress.First().At < TimeSpan.FromSeconds(10), "progress must arrive along the way, not with the result");
    }
}
