using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>The broker goes away for 10 seconds and comes back: nothing hangs, and both sides recover.</summary>
public sealed class SqsOutageTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_sides_recover_from_a_ten_second_broker_outage_and_no_call_hangs()
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
            await using var server = new SqsServerTransport(
                sqs,
                new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, WaitTime = TimeSpan.FromSeconds(2), VisibilityTimeout = TimeSpan.FromSeconds(5) },
                TestMcpServer.CreateOptions(),
                SqsHarness.LoggerFactory);
            await server.StartAsync(Timeout);

            await using var sessionClient = await Connect(sqs, requestQueueUrl, sessionQueueUrl, Protocols.November2025);
            await using var statelessClient = await Connect(sqs, requestQueueUrl, statelessQueueUrl, null);
            await EchoAsync(sessionClient, "before");
            await EchoAsync(statelessClient, "before");

            await emulator.DisposeAsync();
            var duringOutage = new[] { sessionClient, statelessClient }
                .SelectMany(client => Enumerable.Range(0, 3).Select(i => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"during {i}" }, cancellationToken: Timeout).AsTask()))
                .ToList();

            // The outage itself: the broker is gone for 10 seconds.
            await Task.Delay(TimeSpan.FromSeconds(10), Timeout);
            emulator = await FauxqsEmulator.StartAsync(port, dataDirectory);
            foreach (var name in new[] { "outage-req", "outage-resp-session", "outage-resp-stateless" })
            {
                await emulator.CreateQueueAsync(sqs, name);
            }

            // None hangs: each either succeeded after the outage or failed with a clear error.
            foreach (var call in duringOutage)
            {
                try
                {
                    var result = await call.WaitAsync(TimeSpan.FromSeconds(90), Timeout);
                    Assert.StartsWith("Echo: during", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
                }
                catch (Exception ex) when (ex is not TimeoutException)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                    Assert.IsNotType<OperationCanceledException>(ex);
                }
            }

            // Later calls succeed on both clients.
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
