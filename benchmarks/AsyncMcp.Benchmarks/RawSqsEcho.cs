using System.Collections.Concurrent;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// The baseline: a plain request→worker→reply echo over two SQS queues with the same AWS SDK and emulator,
/// one receive loop per queue (as the transport has), correlation by a message attribute.
/// </summary>
internal sealed class RawSqsEcho : IAsyncDisposable
{
    private readonly IAmazonSQS _sqs;
    private readonly IAmazonSQS _workerSqs;
    private readonly string _requestQueue;
    private readonly string _replyQueue;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waiting = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private readonly Task _replies;

    /// <param name="sqs">The caller's client (sends requests, receives and deletes replies).</param>
    /// <param name="requestQueue">The worker's queue.</param>
    /// <param name="replyQueue">The caller's queue.</param>
    /// <param name="workerSqs">The worker's client; <paramref name="sqs"/> when <see langword="null"/>.</param>
    public RawSqsEcho(IAmazonSQS sqs, string requestQueue, string replyQueue, IAmazonSQS? workerSqs = null)
    {
        _sqs = sqs;
        _workerSqs = workerSqs ?? sqs;
        _requestQueue = requestQueue;
        _replyQueue = replyQueue;
        _worker = Task.Run(WorkerAsync);
        _replies = Task.Run(RepliesAsync);
    }

    public async Task RoundTripAsync(int index)
    {
        var id = index.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N");
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = reply;
        await _sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = _requestQueue,
            MessageBody = "{\"message\":\"hello\"}",
            MessageAttributes = new() { ["CorrelationId"] = new() { DataType = "String", StringValue = id } },
        });
        await reply.Task;
    }

    private Task WorkerAsync() => LoopAsync(_workerSqs, _requestQueue, async m =>
    {
        await _workerSqs.SendMessageAsync(new SendMessageRequest { QueueUrl = _replyQueue, MessageBody = m.Body, MessageAttributes = new() { ["CorrelationId"] = m.MessageAttributes["CorrelationId"] } });
        await _workerSqs.DeleteMessageAsync(_requestQueue, m.ReceiptHandle);
    });

    private Task RepliesAsync() => LoopAsync(_sqs, _replyQueue, m =>
    {
        if (_waiting.TryRemove(m.MessageAttributes["CorrelationId"].StringValue, out var waiter))
        {
            waiter.TrySetResult(m.Body);
        }

        _ = _sqs.DeleteMessageAsync(_replyQueue, m.ReceiptHandle);
        return Task.CompletedTask;
    });

    private async Task LoopAsync(IAmazonSQS sqs, string queueUrl, Func<Message, Task> handle)
    {
        while (!_stop.IsCancellationRequested)
        {
            ReceiveMessageResponse received;
            try
            {
                received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 20, MessageAttributeNames = ["All"] }, _stop.Token);
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
