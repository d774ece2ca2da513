using System.Text.Json;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A real McpServer and McpClient over SNS+SQS on the emulator with raw delivery one way and the SNS envelope the other.
/// (Raw and enveloped delivery both ways run the whole conformance suite: <see cref="SnsSqsRawConformanceTests"/>,
/// <see cref="SnsSqsEnvelopedConformanceTests"/>.)
/// </summary>
public sealed class SnsSqsEndToEndTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    public static TheoryData<string, bool, bool> Combinations => new()
    {
        { Protocols.November2025, true, false },
        { Protocols.July2026, false, true },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task Carries_every_capability_with_mixed_delivery(string protocol, bool rawToServer, bool rawToClient)
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, rawToServer);
        var logs = new LogNotifications();
        ObservingClientTransport? observed = null;
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), rawDelivery: rawToClient, clientOptions: logs.ClientOptions(), wrapTransport: t => observed = new ObservingClientTransport(t));
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);

        Assert.Contains(await client.ListToolsAsync(cancellationToken: Timeout), t => t.Name == "echo");
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over sns" }, cancellationToken: Timeout);
        Assert.Equal("Echo: over sns", Text(echo));

        var slow = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 20 }, new SynchronousProgress(_ => { }), cancellationToken: Timeout);
        Assert.Equal("done after 3 steps", Text(slow));
        // Counted where the transport hands messages to the SDK, whose IProgress handler can lose the race with the result.
        await Eventually(() => observed!.ProgressNotices().Count == 3);
        Assert.Equal([1, 2, 3], observed!.ProgressNotices().Select(p => (int)p.Progress).Order());

        Assert.Equal("logged", Text(await client.CallToolAsync("log", new Dictionary<string, object?> { ["message"] = "via topic" }, cancellationToken: Timeout)));
        await Eventually(() => logs.Received.Contains("via topic"));

        var resource = await client.ReadResourceAsync("test://items/3", cancellationToken: Timeout);
        Assert.Equal("item 3", Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text);
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Lin" }, cancellationToken: Timeout);
        Assert.Contains("Lin", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 600, ["delayMs"] = 100 }, new SynchronousProgress(_ => started.TrySetResult()), cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Timeout);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await Eventually(() => harness.State.SlowCancelled == 1);
        await Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);
    }

    internal static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
