using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// The broker process is killed and started again on the same port (with its data) 30 seconds later: calls in flight
/// and calls made during the outage are answered once it is back, and both sides go on working.
/// </summary>
public sealed class SqsOutageTests
{
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(30);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_sides_ride_out_a_broker_killed_and_restarted_30_seconds_later()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("asyncmcp-fauxqs-").FullName;
        var emulator = await FauxqsEmulator.StartAsync(0, dataDirectory);
        var port = emulator.Port;
        try
        {
            using var sqs = emulator.CreateSqsClient();
            var requestQueueUrl = await emulator.CreateQueueAsync(sqs, "outage-req");
            var sessionQueueUrl = await emulator.CreateQueueAsync(sqs, "outage-resp-session");
            var statelessQueueUrl = await emulator.CreateQueueAsync(sqs, "outage-resp-stateless");
            var state = new TestServerState();
            await using var server = new SqsServerTransport(
                sqs,
                new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, WaitTime = TimeSpan.FromSeconds(2), VisibilityTimeout = TimeSpan.FromSeconds(5) },
                TestMcpServer.CreateOptions(state),
                SqsHarness.LoggerFactory);
            await server.StartAsync(Timeout);

            await using var sessionClient = await Connect(sqs, requestQueueUrl, sessionQueueUrl, Protocols.November2025);
            await using var statelessClient = await Connect(sqs, requestQueueUrl, statelessQueueUrl, null);
            await EchoAsync(sessionClient, "before");
            await EchoAsync(statelessClient, "before");

            // A slow call is running on the server when the broker dies; its answer is sent while the broker is away.
            var inFlight = sessionClient.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 2, ["delayMs"] = 1000 }, cancellationToken: Timeout).AsTask();
            await Eventually(() => state.SlowStarted > 0, what: "The slow call's start");

            await emulator.DisposeAsync();
            var duringOutage = new[] { sessionClient, statelessClient }
                .SelectMany(client => Enumerable.Range(0, 3).Select(i => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"during {i}" }, cancellationToken: Timeout).AsTask()))
                .ToList();

            // The outage itself: no broker at all for 30 seconds, then the same broker (same port, same data) again.
            await Task.Delay(s_outage, Timeout);
            Assert.All(duringOutage, call => Assert.False(call.IsFaulted, call.Exception?.ToString()));
            emulator = await FauxqsEmulator.StartAsync(port, dataDirectory);

            var inFlightResult = await inFlight.WaitAsync(TimeSpan.FromSeconds(90), Timeout);
            Assert.Equal("done after 2 steps", Assert.IsType<TextContentBlock>(Assert.Single(inFlightResult.Content)).Text);
            var answers = await Task.WhenAll(duringOutage).WaitAsync(TimeSpan.FromSeconds(90), Timeout);
            Assert.Equal(
                ["Echo: during 0", "Echo: during 0", "Echo: during 1", "Echo: during 1", "Echo: during 2", "Echo: during 2"],
                answers.Select(a => Assert.IsType<TextContentBlock>(Assert.Single(a.Content)).Text).Order(StringComparer.Ordinal));

            await EchoAsync(sessionClient, "after");
            await EchoAsync(statelessClient, "after");
        }
        finally
        {
            await emulator.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<McpClient> Connect(Amazon.SQS.IAmazonSQS sqs, string requestQueueUrl, string responseQueueUrl, string? protocol) =>
        await McpClient.CreateAsync(
            new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl, WaitTime = TimeSpan.FromSeconds(2) }, SqsHarness.LoggerFactory),
            new McpClientOptions { ProtocolVersion = protocol },
            SqsHarness.LoggerFactory,
            Timeout);

    private static async Task EchoAsync(McpClient client, string message)
    {
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Timeout).AsTask().WaitAsync(TimeSpan.FromSeconds(90), Timeout);
        Assert.Equal($"Echo: {message}", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }
}
