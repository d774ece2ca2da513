using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace AsyncMcp.Aws.Tests;

/// <summary>Every server metric of the <c>AsyncMcp</c> meter moves when a real server on the emulator does the thing it counts.</summary>
public sealed class MetricsTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_server_metric_moves_on_real_queues()
    {
        using var metrics = new MetricsRecorder();
        var queue = await new SqsQueueProvisioner(fixture.Sqs).EnsureQueueAsync(FauxqsEmulator.UniqueName("metrics-req"), new SqsQueueSettings { MaxReceiveCount = 2 }, Timeout);
        var requestQueueUrl = queue.QueueUrl;
        var responseQueueUrl = await fixture.CreateQueueAsync("metrics-resp");
        var peer = new RawSqsPeer(fixture.Sqs, requestQueueUrl, responseQueueUrl);

        // An initialize already received once (by a server that then died, say): the server gets it with receive count 2.
        await peer.SendAsync(RawSqsPeer.InitializeBody(1, responseQueueUrl), new() { ["RequestId"] = "1", ["Method"] = "initialize" });
        var taken = await fixture.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = requestQueueUrl, WaitTimeSeconds = 5 }, Timeout);
        await fixture.Sqs.ChangeMessageVisibilityAsync(requestQueueUrl, Assert.Single(taken.Messages).ReceiptHandle, 0, Timeout);

        await using var harness = await SqsHarness.StartAsync(fixture, o => o.WaitTime = TimeSpan.FromSeconds(1), requestQueueUrl: requestQueueUrl);
        await peer.ReceiveMessageAsync(m => (int?)RawSqsPeer.Body(m)["id"] == 1);
        await Eventually(() => metrics.Sum("asyncmcp.server.active_sessions", requestQueueUrl) >= 1, what: "the raw peer's session counted");

        var client = await harness.ConnectAsync(Protocols.November2025);
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "counted" }, cancellationToken: Timeout);
        var failed = await client.CallToolAsync("fail", cancellationToken: Timeout);
        Assert.True(failed.IsError);
        await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync("no_such_tool", cancellationToken: Timeout));
        Assert.Equal(2, metrics.Sum("asyncmcp.server.active_sessions", requestQueueUrl));

        // Nobody can be told about a request without a reply address: handed back until the redrive policy moves it.
        await peer.SendAsync("""{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}""", new() { ["RequestId"] = "9", ["Method"] = "tools/list" });
        await Eventually(() => metrics.Sum("asyncmcp.server.messages.dead_lettered", requestQueueUrl) == 1, TimeSpan.FromSeconds(60), "the unprocessable message counted as dead-lettered");
        await EventuallyAsync(async () => await fixture.CountVisibleAsync(queue.DeadLetterQueueUrl!) == 1, TimeSpan.FromSeconds(60), "the message on the dead-letter queue");

        await client.DisposeAsync();
        await Eventually(() => metrics.Sum("asyncmcp.server.active_sessions", requestQueueUrl) == 1, what: "the closed session no longer counted");
        await Eventually(() => metrics.Sum("asyncmcp.server.active_requests", requestQueueUrl) == 0, what: "no request in flight");

        Assert.True(metrics.Sum("messaging.client.consumed.messages", requestQueueUrl) >= 6);
        Assert.Equal(2, metrics.Sum("asyncmcp.server.requests.received", requestQueueUrl, m => Equals(m.Tags["mcp.method.name"], "initialize")));
        Assert.Equal(3, metrics.Sum("asyncmcp.server.requests.received", requestQueueUrl, m => Equals(m.Tags["mcp.method.name"], "tools/call")));
        Assert.Equal(1, metrics.Sum("asyncmcp.server.requests.redelivered", requestQueueUrl));
        Assert.Equal("initialize", Assert.Single(metrics.For("asyncmcp.server.requests.redelivered", requestQueueUrl)).Tags["mcp.method.name"]);
        Assert.Equal(1, metrics.Sum("asyncmcp.server.requests.completed", requestQueueUrl, m => Equals(m.Tags["mcp.method.name"], "tools/call")));
        var failures = metrics.For("asyncmcp.server.requests.failed", requestQueueUrl).Where(m => Equals(m.Tags["mcp.method.name"], "tools/call")).ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, m => Equals(m.Tags["error.type"], "tool_error"));
        Assert.Contains(failures, m => m.Tags["error.type"] is string code && code.StartsWith('-'));
        Assert.True(metrics.Sum("asyncmcp.server.active_requests", requestQueueUrl, m => m.Value > 0) >= 5);
        var durations = metrics.For("asyncmcp.server.request.duration", requestQueueUrl);
        Assert.True(durations.Count >= 5);
        Assert.All(durations, m => Assert.True(m.Value >= 0));
        var ages = metrics.For("asyncmcp.server.message.age", requestQueueUrl);
        Assert.NotEmpty(ages);
        Assert.All(ages, m => Assert.True(m.Value >= 0));
    }
}
