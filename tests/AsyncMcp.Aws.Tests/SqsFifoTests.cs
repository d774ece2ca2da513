using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>FIFO queues: per-session message groups, deduplication ids, and order kept through the transport.</summary>
public sealed class SqsFifoTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static readonly Dictionary<string, string> s_fifo = new() { ["FifoQueue"] = "true" };

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Two_hundred_notifications_in_one_session_arrive_in_order_before_the_result(string protocol)
    {
        var requestQueueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("fifo-req") + ".fifo", s_fifo);
        var responseQueueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("fifo-resp") + ".fifo", s_fifo);
        await using var server = new SqsServerTransport(fixture.Sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl }, TestMcpServer.CreateOptions(), SqsHarness.LoggerFactory);
        await server.StartAsync(Timeout);
        var observed = new ObservingClientTransport(new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }, SqsHarness.LoggerFactory));
        await using var client = await McpClient.CreateAsync(observed, new McpClientOptions { ProtocolVersion = Protocols.ClientSetting(protocol) }, cancellationToken: Timeout);

        var result = await client.CallToolAsync("burst", new Dictionary<string, object?> { ["count"] = 200 }, new SynchronousProgress(_ => { }), cancellationToken: Timeout);

        Assert.Equal("reported 200", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        var sequence = observed.Received
            .SkipWhile(m => m is not JsonRpcNotification { Method: NotificationMethods.ProgressNotification })
            .TakeWhile(m => m is JsonRpcNotification)
            .Select(m => (int)((JsonRpcNotification)m).Params!["progress"]!.GetValue<double>())
            .ToList();
        Assert.Equal(Enumerable.Range(1, 200), sequence);
        var afterProgress = observed.Received.SkipWhile(m => m is not JsonRpcNotification { Method: NotificationMethods.ProgressNotification }).Skip(200).First();
        Assert.IsType<JsonRpcResponse>(afterProgress);

        // Calls keep working, in order, within the session's message group.
        for (var i = 0; i < 3; i++)
        {
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"m{i}" }, cancellationToken: Timeout);
            Assert.Equal($"Echo: m{i}", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
        }
    }
}
