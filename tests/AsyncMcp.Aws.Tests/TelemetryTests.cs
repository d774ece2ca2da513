using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncMcp.Diagnostics;

namespace AsyncMcp.Aws.Tests;

/// <summary>Spans follow the OpenTelemetry messaging conventions.</summary>
public sealed class TelemetryTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task Sends_and_processing_are_traced_with_messaging_conventions()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == AsyncMcpTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.November2025);
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "traced" }, cancellationToken: TestContext.Current.CancellationToken);

        // The client sends a session's requests to the queue of the worker that holds it, where the server receives them.
        var mine = spans.Where(s => (s.GetTagItem("messaging.destination.name") as string) == harness.WorkerQueueUrl).ToList();
        var send = Assert.Single(mine, s => s.Kind == ActivityKind.Producer && (string?)s.GetTagItem("mcp.method.name") == "tools/call");
        Assert.Equal("aws_sqs", send.GetTagItem("messaging.system"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
        var process = Assert.Single(mine, s => s.Kind == ActivityKind.Consumer && (string?)s.GetTagItem("mcp.method.name") == "tools/call");
        Assert.Equal("aws_sqs", process.GetTagItem("messaging.system"));
        Assert.False(string.IsNullOrEmpty(process.GetTagItem("messaging.message.id") as string));
        Assert.StartsWith("process ", process.DisplayName, StringComparison.Ordinal);
    }
}
