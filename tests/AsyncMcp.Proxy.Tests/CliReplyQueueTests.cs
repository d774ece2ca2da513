using Amazon.SQS.Model;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Reply queues the command creates keep an unclaimed reply for an hour, not SQS's four days, and have no dead-letter
/// queue (docs/cli.md); a queue that exists already is used as it is.
/// </summary>
public sealed class CliReplyQueueTests(BridgeEmulator emulator)
{
    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task A_response_queue_created_by_call_keeps_replies_one_hour_without_a_dead_letter_queue()
    {
        var requestQueue = await emulator.CreateQueueAsync("cli-reply-req");
        var responseQueue = FauxqsEmulator.UniqueName("cli-reply-resp");

        // No server answers: the call times out, after creating its reply queue.
        var call = await _cli.RunSeparatedAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--timeout", "2"]);
        Assert.Equal(1, call.Exit);

        await AssertReplyQueueAsync(responseQueue);
    }

    [Fact]
    public async Task A_client_queue_created_by_call_over_sns_sqs_keeps_replies_one_hour_without_a_dead_letter_queue()
    {
        var clientQueue = FauxqsEmulator.UniqueName("cli-reply-client");
        var call = await _cli.RunSeparatedAsync(
            ["call", "--transport", "sns-sqs", "--server-topic", FauxqsEmulator.UniqueName("cli-reply-server"), "--client-topic", clientQueue, "--client-queue", clientQueue, "--timeout", "2"]);
        Assert.Equal(1, call.Exit);

        await AssertReplyQueueAsync(clientQueue);
    }

    private async Task AssertReplyQueueAsync(string name)
    {
        var url = (await emulator.Sqs.GetQueueUrlAsync(name, TestContext.Current.CancellationToken)).QueueUrl;
        var attributes = (await emulator.Sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = ["All"] }, TestContext.Current.CancellationToken)).Attributes;
        Assert.Equal("3600", attributes["MessageRetentionPeriod"]);
        Assert.False(attributes.ContainsKey("RedrivePolicy"), "a reply queue needs no dead-letter queue");
    }
}
