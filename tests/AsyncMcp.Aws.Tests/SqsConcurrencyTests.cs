using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

public sealed class SqsConcurrencyTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task Clients_sharing_a_response_queue_share_one_receive_loop_and_get_every_progress_notice_before_their_result()
    {
        var timeout = TestContext.Current.CancellationToken;
        await using var harness = await SqsHarness.StartAsync(fixture);
        var shared = await harness.CreateResponseQueueAsync();
        using var sqs = fixture.Emulator.CreateSqsClient();

        var clients = new List<(McpClient Client, ObservingClientTransport Observed)>();
        for (var c = 0; c < 12; c++)
        {
            var observed = new ObservingClientTransport(new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = harness.RequestQueueUrl, ResponseQueueUrl = shared }, SqsHarness.LoggerFactory));
            clients.Add((await McpClient.CreateAsync(observed, new McpClientOptions { ProtocolVersion = c % 2 == 0 ? Protocols.November2025 : null }, SqsHarness.LoggerFactory, timeout), observed));
        }

        Assert.Equal(1, SharedReplyQueues.CountFor(sqs));

        // Each call's progress notices and its result travel the one queue. With one loop handing them out, no notice is
        // taken by another connection and handed back to arrive after the result. (A standard queue does not keep the
        // order of messages sent close together, and the tool's last notice is fire-and-forget and may race its own
        // result at the server, so what counts is that the first three all come before the result.)
        var results = await Task.WhenAll(clients.Select(async pair =>
        {
            var result = await pair.Client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 4, ["delayMs"] = 100 }, new Progress<ModelContextProtocol.ProgressNotificationValue>(), cancellationToken: timeout);
            return (Text: Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, Before: pair.Observed.ProgressBefore("done after 4 steps"));
        }));

        Assert.All(results, r =>
        {
            Assert.Equal("done after 4 steps", r.Text);
            Assert.NotNull(r.Before);
            Assert.All(new[] { 1d, 2d, 3d }, step => Assert.Contains(step, r.Before));
        });
        foreach (var (client, _) in clients)
        {
            await client.DisposeAsync();
        }

        Assert.Equal(0, SharedReplyQueues.LeasesFor(sqs));
    }

    [Fact]
    public async Task A_connection_that_follows_the_last_one_on_a_response_queue_gets_its_replies_at_once()
    {
        var timeout = TestContext.Current.CancellationToken;
        await using var harness = await SqsHarness.StartAsync(fixture);
        var queue = await harness.CreateResponseQueueAsync();
        using var sqs = fixture.Emulator.CreateSqsClient();
        var options = new SqsClientTransportOptions { ServerRequestQueueUrl = harness.RequestQueueUrl, ResponseQueueUrl = queue };

        // A proxy's sessions come and go: the first connection closes while its long poll is in flight. Were that poll
        // abandoned, the emulator (and SQS) could still hand it the next reply, hidden for the visibility timeout (30 s).
        await (await McpClient.CreateAsync(new SqsClientTransport(sqs, options, SqsHarness.LoggerFactory), new McpClientOptions { ProtocolVersion = Protocols.November2025 }, SqsHarness.LoggerFactory, timeout)).DisposeAsync();
        Assert.Equal(0, SharedReplyQueues.LeasesFor(sqs));

        using var prompt = CancellationTokenSource.CreateLinkedTokenSource(timeout);
        prompt.CancelAfter(TimeSpan.FromSeconds(15));
        await using var next = await McpClient.CreateAsync(new SqsClientTransport(sqs, options, SqsHarness.LoggerFactory), new McpClientOptions { ProtocolVersion = Protocols.November2025 }, SqsHarness.LoggerFactory, prompt.Token);
        var result = await next.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "next" }, cancellationToken: prompt.Token);

        Assert.Equal("Echo: next", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(1, SharedReplyQueues.CountFor(sqs));
    }
}
