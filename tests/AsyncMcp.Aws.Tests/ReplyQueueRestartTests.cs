using Amazon.SQS.Model;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A client that closes ends its long poll on its response queue instead of abandoning it: the emulator, like SQS,
/// would go on serving an abandoned receive, which would take the next message on the queue (the next client's first
/// reply) and hide it for the receive's visibility timeout.
/// </summary>
public sealed class ReplyQueueRestartTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_client_that_closes_leaves_no_receive_behind_on_its_response_queue(bool shareReplyQueue)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var responseQueueUrl = await harness.CreateResponseQueueAsync();
        var client = await harness.ConnectAsync(Protocols.November2025, responseQueueUrl, o => o.ShareReplyQueue = shareReplyQueue);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Timeout);
        Assert.Equal("Echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);

        await client.DisposeAsync();

        // The next message on the queue is received first by whoever polls now: only this receive may see it.
        await fixture.Sqs.SendMessageAsync(responseQueueUrl, "probe", Timeout);
        var received = await fixture.Sqs.ReceiveMessageAsync(
            new ReceiveMessageRequest
            {
                QueueUrl = responseQueueUrl,
                MaxNumberOfMessages = 10,
                WaitTimeSeconds = 5,
                MessageAttributeNames = ["All"],
                MessageSystemAttributeNames = ["ApproximateReceiveCount"],
            },
            Timeout);

        var probe = Assert.Single(received.Messages ?? []);
        Assert.Equal("probe", probe.Body);
        Assert.Equal("1", probe.Attributes["ApproximateReceiveCount"]);
    }
}
