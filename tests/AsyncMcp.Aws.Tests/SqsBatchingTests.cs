using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Aws.Sqs.Batching;
using AsyncMcp.Messaging;
using AsyncMcp.Testing;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Sends, deletes and visibility changes that wait at the same moment go out as batch requests on the emulator: a
/// failed entry fails alone with the error its single call would have had, batches stay under the 256 KiB limit, and
/// FIFO order within a message group is kept. Requests are counted at the SQS client's HTTP layer.
/// </summary>
public sealed class SqsBatchingTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_visibility_change_for_a_deleted_message_fails_alone_in_its_batch()
    {
        var counter = new AwsRequestCounter { RecordBatches = true };
        using var sqs = counter.CreateSqsClient(fixture.Emulator.ServiceUrl);
        var queueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("batch-vis"));
        var messages = await SendAndReceiveAsync(sqs, queueUrl, 5);

        // Deleted behind the transport's back: their receipts are no longer valid.
        await fixture.Sqs.DeleteMessageAsync(queueUrl, ((SqsInboundMessage)messages[1]).ReceiptHandle, Timeout);
        await fixture.Sqs.DeleteMessageAsync(queueUrl, ((SqsInboundMessage)messages[3]).ReceiptHandle, Timeout);

        // The first goes out at once and alone; the four made while it is in flight (held) go out together after it.
        var release = new TaskCompletionSource();
        var held = counter.HoldNext("ChangeMessageVisibility", release.Task);
        var extending = messages.Select(m => m.ExtendAsync(TimeSpan.FromSeconds(60), Timeout)).ToList();
        await held.WaitAsync(Timeout);
        await WaitingAsync(sqs, queueUrl, 4);
        release.SetResult();
        var extended = await Task.WhenAll(extending);

        Assert.Equal([true, false, true, false, true], extended);
        Assert.Equal(1, counter.Snapshot().GetValueOrDefault("ChangeMessageVisibility"));
        Assert.Equal([("ChangeMessageVisibilityBatch", 4)], counter.Batches);
        Assert.Equal(0, await fixture.CountVisibleAsync(queueUrl));
    }

    [Fact]
    public async Task A_message_the_broker_refuses_fails_alone_with_the_error_of_a_single_send_and_is_not_retried()
    {
        var counter = new AwsRequestCounter { RecordBatches = true };
        using var sqs = counter.CreateSqsClient(fixture.Emulator.ServiceUrl);
        var queueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("batch-send"));
        var sink = new RetryingMessageSink(new SqsMessageSink(sqs, maxMessageBytes: null), new SendRetryOptions());

        // A character SQS does not accept in a body (U+0001): refused by the broker, not by our own checks. The first
        // send goes alone and is held, so that the three after it wait and go out together.
        var bodies = new[] { "{\"n\":0}", "{\"n\":1}", "{\"n\":\"\u0001\"}", "{\"n\":3}" };
        var release = new TaskCompletionSource();
        var held = counter.HoldNext("SendMessage", release.Task);
        var sends = new List<Task<Exception?>> { Capture(sink.SendAsync(queueUrl, Message(bodies[0]), Timeout)) };
        await held.WaitAsync(Timeout);
        sends.AddRange(bodies.Skip(1).Select(body => Capture(sink.SendAsync(queueUrl, Message(body), Timeout))));
        await WaitingAsync(sqs, queueUrl, 3);
        release.SetResult();
        var outcomes = await Task.WhenAll(sends);

        Assert.Null(outcomes[0]);
        Assert.Null(outcomes[1]);
        Assert.Null(outcomes[3]);
        var refused = Assert.IsType<AsyncMcpTransportException>(outcomes[2]);
        Assert.False(refused.IsTransient);
        Assert.IsType<InvalidMessageContentsException>(refused.InnerException);
        Assert.Equal([("SendMessageBatch", 3)], counter.Batches);
        Assert.Equal(1, counter.Snapshot().GetValueOrDefault("SendMessage"));

        // The same message sent alone fails the same way.
        var alone = await Capture(sink.SendAsync(queueUrl, Message(bodies[2]), Timeout));
        Assert.IsType<InvalidMessageContentsException>(Assert.IsType<AsyncMcpTransportException>(alone).InnerException);
        Assert.False(((AsyncMcpTransportException)alone!).IsTransient);

        var received = await SendAndReceiveAsync(sqs, queueUrl, 0, expected: 3);
        Assert.Equal(["{\"n\":0}", "{\"n\":1}", "{\"n\":3}"], received.Select(m => m.Body).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Sends_that_wait_together_are_split_to_stay_within_256_KiB_per_batch()
    {
        var counter = new AwsRequestCounter { RecordBatches = true };
        using var sqs = counter.CreateSqsClient(fixture.Emulator.ServiceUrl);
        var queueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("batch-size"));
        var batcher = SqsBatcher.For(sqs);
        var payload = new string('x', 100 * 1024);

        var release = new TaskCompletionSource();
        var held = counter.HoldNext("SendMessage", release.Task);
        var sends = Enumerable.Range(0, 10).Select(i => batcher.SendAsync(
            new SendMessageRequest { QueueUrl = queueUrl, MessageBody = i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture) + payload },
            Timeout)).ToList();
        await held.WaitAsync(Timeout);
        await WaitingAsync(sqs, queueUrl, 9);
        release.SetResult();
        await Task.WhenAll(sends);

        // One alone (held), then the nine of 100 KiB that waited behind it: two fit in 256 KiB, three do not, and the
        // one left over goes as a single send.
        Assert.Equal([2, 2, 2, 2], counter.Batches.Select(b => b.Entries));
        Assert.Equal(2, counter.Snapshot().GetValueOrDefault("SendMessage"));
        var received = await SendAndReceiveAsync(sqs, queueUrl, 0, expected: 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)), received.Select(m => m.Body[..2]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Batches_on_a_FIFO_queue_keep_each_groups_order()
    {
        var counter = new AwsRequestCounter { RecordBatches = true };
        using var sqs = counter.CreateSqsClient(fixture.Emulator.ServiceUrl);
        var queueUrl = await fixture.Emulator.CreateQueueAsync(fixture.Sqs, FauxqsEmulator.UniqueName("batch-fifo") + ".fifo", new() { ["FifoQueue"] = "true" });
        var sink = new SqsMessageSink(sqs, maxMessageBytes: null);
        const int groups = 6;
        const int perGroup = 25;

        // Each group sends one message after another, as a session's lane does on a FIFO queue; the groups run side by
        // side. The queue's size limit is read first, and the first send is held until every other group waits behind it.
        await sink.SendAsync(queueUrl, Message("warm-up"), Timeout);
        var release = new TaskCompletionSource();
        var held = counter.HoldNext("SendMessage", release.Task);
        var releasing = Task.Run(async () =>
        {
            await held.WaitAsync(Timeout);
            await WaitingAsync(sqs, queueUrl, groups - 1);
            release.TrySetResult();
        }, Timeout);
        await Task.WhenAll(Enumerable.Range(0, groups).Select(group => Task.Run(async () =>
        {
            for (var i = 0; i < perGroup; i++)
            {
                await sink.SendAsync(queueUrl, new OutboundMessage($"{group}:{i}", new Dictionary<string, string> { ["MessageType"] = "jsonrpc" }, OrderingKey: $"g{group}"), Timeout);
            }
        }, Timeout)));

        await releasing;
        Assert.Contains(counter.Batches, b => b.Operation == "SendMessageBatch" && b.Entries == groups - 1);
        var received = await SendAndReceiveAsync(sqs, queueUrl, 0, expected: (groups * perGroup) + 1);
        Assert.Equal("warm-up", received[0].Body);
        foreach (var group in Enumerable.Range(0, groups))
        {
            Assert.Equal(
                Enumerable.Range(0, perGroup).Select(i => $"{group}:{i}"),
                received.Select(m => m.Body).Where(b => b.StartsWith($"{group}:", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Replies_waiting_for_one_topic_are_published_as_one_PublishBatch_with_their_attributes()
    {
        var counter = new AwsRequestCounter { RecordBatches = true };
        using var sns = new AsyncMcp.Aws.Sns.SnsQueryClient(
            new AsyncMcp.Aws.Sns.SnsQueryClientOptions { ServiceUrl = fixture.Emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials },
            counter.CreateHttpClient());
        var provisioner = new AsyncMcp.Aws.SnsSqs.SnsSqsProvisioner(fixture.Sqs, sns);
        var topic = await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("batch-topic"), cancellationToken: Timeout);
        var queueUrl = (await provisioner.EnsureSubscribedQueueAsync(topic, FauxqsEmulator.UniqueName("batch-topic-q"), cancellationToken: Timeout)).Queue.QueueUrl;
        var sink = new AsyncMcp.Aws.Sns.SnsMessageSink(sns, maxMessageBytes: null);

        var release = new TaskCompletionSource();
        var held = counter.HoldNext("Publish", release.Task);
        var publishes = new List<Task> { sink.SendAsync(topic, Message("{\"n\":0}"), Timeout) };
        await held.WaitAsync(Timeout);
        publishes.AddRange(Enumerable.Range(1, 4).Select(i => sink.SendAsync(topic, Message($"{{\"n\":{i}}}"), Timeout)));
        release.SetResult();
        await Task.WhenAll(publishes);

        Assert.Equal(1, counter.Snapshot().GetValueOrDefault("Publish"));
        Assert.Equal(1, counter.Snapshot().GetValueOrDefault("PublishBatch"));
        var received = await SendAndReceiveAsync(fixture.Sqs, queueUrl, 0, expected: 5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{{\"n\":{i}}}"), received.Select(m => m.Body).Order(StringComparer.Ordinal));
        Assert.All(received, m => Assert.Equal("jsonrpc", m.Attributes["MessageType"]));
    }

    /// <summary>Sends <paramref name="send"/> plain messages, then receives (and, when more are expected than sent, deletes as it goes) until <paramref name="expected"/> have arrived.</summary>
    private static async Task<List<IInboundMessage>> SendAndReceiveAsync(IAmazonSQS sqs, string queueUrl, int send, int? expected = null)
    {
        for (var i = 0; i < send; i++)
        {
            await sqs.SendMessageAsync(queueUrl, $"m{i}", Timeout);
        }

        var source = new SqsMessageSource(sqs, queueUrl, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var received = new List<IInboundMessage>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var settle = expected is not null;
        while (received.Count < (expected ?? send))
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {received.Count} of {expected ?? send} messages arrived");
            var batch = await source.ReceiveAsync(10, Timeout);
            received.AddRange(batch);
            if (settle)
            {
                // A FIFO group's next messages are handed out only once those before them are gone.
                foreach (var message in batch)
                {
                    await sqs.DeleteMessageAsync(queueUrl, ((SqsInboundMessage)message).ReceiptHandle, Timeout);
                }
            }
        }

        return received;
    }

    private static OutboundMessage Message(string body, string? group = null) =>
        new(body, new Dictionary<string, string> { ["MessageType"] = "jsonrpc" }, group);

    /// <summary>Waits until <paramref name="count"/> operations on the queue wait for a batch.</summary>
    private static Task WaitingAsync(IAmazonSQS sqs, string queueUrl, int count) =>
        Waiting.Eventually(() => SqsBatcher.For(sqs).Waiting(queueUrl) >= count, what: $"{count} operations waiting for a batch");

    private static async Task<Exception?> Capture(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
