using System.Collections.Concurrent;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// The SNS+SQS baseline: publish to a request topic → worker queue (raw delivery) → publish to a reply topic →
/// reply queue, with the same SNS client and AWS SDK as the transport, one receive loop per queue.
/// </summary>
internal sealed class RawSnsEcho : IAsyncDisposable
{
    private readonly IAmazonSQS _sqs;
    private readonly ISnsClient _sns;
    private readonly string _requestTopic;
    private readonly string _workerQueue;
    private readonly string _replyTopic;
    private readonly string _replyQueue;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private readonly Task _replies;

    /// <summary>When set, every message also carries the six attributes AsyncMcp sends, for a like-for-like comparison.</summary>
    public bool WireAttributes { get; init; }

    public RawSnsEcho(IAmazonSQS sqs, ISnsClient sns, string requestTopic, string workerQueue, string replyTopic, string replyQueue)
    {
        (_sqs, _sns, _requestTopic, _workerQueue, _replyTopic, _replyQueue) = (sqs, sns, requestTopic, workerQueue, replyTopic, replyQueue);
        _worker = Task.Run(() => LoopAsync(_workerQueue, async m =>
        {
            await _sns.PublishAsync(new SnsPublishRequest(_replyTopic, m.Body) { MessageAttributes = Correlation(m) });
            await _sqs.DeleteMessageAsync(_workerQueue, m.ReceiptHandle);
        }));
        _replies = Task.Run(() => LoopAsync(_replyQueue, m =>
        {
            if (_waiting.TryRemove(m.MessageAttributes["CorrelationId"].StringValue, out var waiter))
            {
                waiter.TrySetResult();
            }

            _ = _sqs.DeleteMessageAsync(_replyQueue, m.ReceiptHandle);
            return Task.CompletedTask;
        }));
    }

    public async Task RoundTripAsync(int index)
    {
        var id = index.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N");
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = reply;
        var attributes = new Dictionary<string, SnsAttributeValue> { ["CorrelationId"] = new("String", id) };
        if (WireAttributes)
        {
            attributes["MessageType"] = new("String", "jsonrpc");
            attributes["Timestamp"] = new("Number", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            attributes["RequestId"] = new("String", index.ToString(CultureInfo.InvariantCulture));
            attributes["Method"] = new("String", "tools/call");
            attributes["ClientId"] = new("String", "0123456789abcdef0123456789abcdef.01234567");
            attributes["SessionId"] = new("String", "0123456789abcdef0123456789abcdef");
        }

        await _sns.PublishAsync(new SnsPublishRequest(_requestTopic, "{\"message\":\"hello\"}") { MessageAttributes = attributes });
        await reply.Task;
    }

    private static Dictionary<string, SnsAttributeValue> Correlation(Message m) =>
        m.MessageAttributes.ToDictionary(a => a.Key, a => new SnsAttributeValue(a.Value.DataType, a.Value.StringValue));

    private async Task LoopAsync(string queueUrl, Func<Message, Task> handle)
    {
        while (!_stop.IsCancellationRequested)
        {
            ReceiveMessageResponse received;
            try
            {
                received = await _sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 20, MessageAttributeNames = ["All"] }, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await Task.WhenAll((received.Messages ?? []).Select(handle));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_worker, _replies);
        _stop.Dispose();
    }
}
