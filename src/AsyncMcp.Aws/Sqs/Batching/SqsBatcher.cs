using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Aws.Sqs.Batching;

/// <summary>
/// Sends the SQS sends, deletes and visibility changes that wait at the same moment for one queue as
/// <c>SendMessageBatch</c>, <c>DeleteMessageBatch</c> and <c>ChangeMessageVisibilityBatch</c> requests (see
/// <see cref="BatchLane{TEntry}"/>): one request for up to ten operations, fewer requests per call under load, the
/// same single request as before when an operation is alone. Each operation completes, or fails with the exception
/// its own single call would have thrown, so callers retry or report it exactly as they did.
/// </summary>
/// <remarks>One batcher per SQS client, shared by every transport that uses the client, so that what a process does
/// with one queue at the same moment is batched together.</remarks>
internal sealed class SqsBatcher
{
    /// <summary>The most bytes of message bodies and attributes in one <c>SendMessageBatch</c>.</summary>
    public const int MaxSendBatchBytes = 262_144;

    private static readonly ConditionalWeakTable<IAmazonSQS, SqsBatcher> s_batchers = new();

    private readonly IAmazonSQS _sqs;
    private readonly ConcurrentDictionary<string, BatchLane<SendMessageRequest>> _sends = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BatchLane<DeleteMessageRequest>> _deletes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BatchLane<ChangeMessageVisibilityRequest>> _visibility = new(StringComparer.Ordinal);

    private SqsBatcher(IAmazonSQS sqs) => _sqs = sqs;

    /// <summary>The batcher of an SQS client.</summary>
    public static SqsBatcher For(IAmazonSQS sqs)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        return s_batchers.GetValue(sqs, static client => new SqsBatcher(client));
    }

    /// <summary>Sends a message, alone or in a batch with others sent to the same queue at the same moment.</summary>
    public Task SendAsync(SendMessageRequest request, CancellationToken cancellationToken = default) =>
        SubmitAsync(_sends, request.QueueUrl, request, SendBatchAsync, SendSize, MaxSendBatchBytes, cancellationToken);

    /// <summary>Deletes a message, alone or in a batch with other deletes on the same queue at the same moment.</summary>
    public Task DeleteAsync(string queueUrl, string receiptHandle, CancellationToken cancellationToken = default) =>
        SubmitAsync(_deletes, queueUrl, new DeleteMessageRequest { QueueUrl = queueUrl, ReceiptHandle = receiptHandle }, DeleteBatchAsync, static _ => 0, int.MaxValue, cancellationToken);

    /// <summary>Changes a message's visibility timeout, alone or in a batch with other changes on the same queue.</summary>
    public Task ChangeVisibilityAsync(string queueUrl, string receiptHandle, int visibilityTimeoutSeconds, CancellationToken cancellationToken = default) =>
        SubmitAsync(
            _visibility,
            queueUrl,
            new ChangeMessageVisibilityRequest { QueueUrl = queueUrl, ReceiptHandle = receiptHandle, VisibilityTimeout = visibilityTimeoutSeconds },
            VisibilityBatchAsync,
            static _ => 0,
            int.MaxValue,
            cancellationToken);

    /// <summary>How many operations on <paramref name="queueUrl"/> wait for a batch (not those in flight).</summary>
    internal int Waiting(string queueUrl) =>
        (_sends.TryGetValue(queueUrl, out var sends) ? sends.WaitingCount : 0) +
        (_deletes.TryGetValue(queueUrl, out var deletes) ? deletes.WaitingCount : 0) +
        (_visibility.TryGetValue(queueUrl, out var visibility) ? visibility.WaitingCount : 0);

    private static async Task SubmitAsync<TEntry>(
        ConcurrentDictionary<string, BatchLane<TEntry>> lanes,
        string queueUrl,
        TEntry entry,
        Func<string, IReadOnlyList<BatchLane<TEntry>.Pending>, Task> sendBatch,
        Func<TEntry, int> size,
        int maxBatchBytes,
        CancellationToken cancellationToken)
    {
        var lane = lanes.GetOrAdd(queueUrl, url => new BatchLane<TEntry>(batch => sendBatch(url, batch), size, maxBatchBytes));
        try
        {
            await lane.SubmitAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Lanes of queues no longer used (a client's reply queue) are not kept. A caller that took the lane just
            // before it was dropped still has a lane that works on its own; only the sharing is lost.
            if (lane.IsIdle)
            {
                lanes.TryRemove(new KeyValuePair<string, BatchLane<TEntry>>(queueUrl, lane));
            }
        }
    }

    private async Task SendBatchAsync(string queueUrl, IReadOnlyList<BatchLane<SendMessageRequest>.Pending> batch)
    {
        if (batch.Count == 1)
        {
            await _sqs.SendMessageAsync(batch[0].Entry, CancellationToken.None).ConfigureAwait(false);
            batch[0].Succeed();
            return;
        }

        var request = new SendMessageBatchRequest
        {
            QueueUrl = queueUrl,
            Entries = [.. batch.Select((pending, index) => new SendMessageBatchRequestEntry
            {
                Id = index.ToString(CultureInfo.InvariantCulture),
                MessageBody = pending.Entry.MessageBody,
                MessageAttributes = pending.Entry.MessageAttributes,
                MessageGroupId = pending.Entry.MessageGroupId,
                MessageDeduplicationId = pending.Entry.MessageDeduplicationId,
                DelaySeconds = pending.Entry.DelaySeconds,
            })],
        };

        SendMessageBatchResponse response;
        try
        {
            response = await _sqs.SendMessageBatchAsync(request, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BatchRequestTooLongException)
        {
            // The broker counts the batch larger than we did: each goes alone, as it would have without batching.
            await Task.WhenAll(batch.Select(async pending =>
            {
                try
                {
                    await _sqs.SendMessageAsync(pending.Entry, CancellationToken.None).ConfigureAwait(false);
                    pending.Succeed();
                }
                catch (Exception ex)
                {
                    pending.Fail(ex);
                }
            })).ConfigureAwait(false);
            return;
        }

        Settle(batch, response.Successful?.Select(s => s.Id), response.Failed, "SendMessage");
    }

    private async Task DeleteBatchAsync(string queueUrl, IReadOnlyList<BatchLane<DeleteMessageRequest>.Pending> batch)
    {
        if (batch.Count == 1)
        {
            await _sqs.DeleteMessageAsync(batch[0].Entry, CancellationToken.None).ConfigureAwait(false);
            batch[0].Succeed();
            return;
        }

        var response = await _sqs.DeleteMessageBatchAsync(
            new DeleteMessageBatchRequest
            {
                QueueUrl = queueUrl,
                Entries = [.. batch.Select((pending, index) => new DeleteMessageBatchRequestEntry { Id = index.ToString(CultureInfo.InvariantCulture), ReceiptHandle = pending.Entry.ReceiptHandle })],
            },
            CancellationToken.None).ConfigureAwait(false);
        Settle(batch, response.Successful?.Select(s => s.Id), response.Failed, "DeleteMessage");
    }

    private async Task VisibilityBatchAsync(string queueUrl, IReadOnlyList<BatchLane<ChangeMessageVisibilityRequest>.Pending> batch)
    {
        if (batch.Count == 1)
        {
            await _sqs.ChangeMessageVisibilityAsync(batch[0].Entry, CancellationToken.None).ConfigureAwait(false);
            batch[0].Succeed();
            return;
        }

        var response = await _sqs.ChangeMessageVisibilityBatchAsync(
            new ChangeMessageVisibilityBatchRequest
            {
                QueueUrl = queueUrl,
                Entries = [.. batch.Select((pending, index) => new ChangeMessageVisibilityBatchRequestEntry
                {
                    Id = index.ToString(CultureInfo.InvariantCulture),
                    ReceiptHandle = pending.Entry.ReceiptHandle,
                    VisibilityTimeout = pending.Entry.VisibilityTimeout,
                })],
            },
            CancellationToken.None).ConfigureAwait(false);
        Settle(batch, response.Successful?.Select(s => s.Id), response.Failed, "ChangeMessageVisibility");
    }

    private static void Settle<TEntry>(IReadOnlyList<BatchLane<TEntry>.Pending> batch, IEnumerable<string>? succeeded, List<BatchResultErrorEntry>? failed, string operation)
    {
        foreach (var id in succeeded ?? [])
        {
            if (Entry(batch, id) is { } pending)
            {
                pending.Succeed();
            }
        }

        foreach (var failure in failed ?? [])
        {
            Entry(batch, failure.Id)?.Fail(EntryError(failure));
        }

        foreach (var pending in batch.Where(p => !p.IsSettled))
        {
            // An answer that names an entry neither way is the broker's fault: worth trying again, like a 5xx.
            pending.Fail(new AmazonSQSException($"The {operation}Batch answer did not name this entry.", ErrorType.Receiver, "InternalError", null, HttpStatusCode.InternalServerError));
        }
    }

    private static BatchLane<TEntry>.Pending? Entry<TEntry>(IReadOnlyList<BatchLane<TEntry>.Pending> batch, string? id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index >= 0 && index < batch.Count ? batch[index] : null;

    /// <summary>
    /// The exception the single call would have thrown for the error an entry of a batch got: the same type for the
    /// codes callers tell apart, else an <see cref="AmazonSQSException"/> with the code, a client error when the sender
    /// was at fault and a server error (worth retrying) when not.
    /// </summary>
    internal static AmazonSQSException EntryError(BatchResultErrorEntry failure)
    {
        var status = failure.SenderFault == true ? HttpStatusCode.BadRequest : HttpStatusCode.InternalServerError;
        var type = failure.SenderFault == true ? ErrorType.Sender : ErrorType.Receiver;
        var message = failure.Message ?? failure.Code ?? "The batch entry failed.";
        var code = failure.Code ?? "InternalError";
        return code switch
        {
            "ReceiptHandleIsInvalid" => new ReceiptHandleIsInvalidException(message, type, code, null, status),
            "MessageNotInflight" or "AWS.SimpleQueueService.MessageNotInflight" => new MessageNotInflightException(message, type, code, null, status),
            "InvalidMessageContents" => new InvalidMessageContentsException(message, type, code, null, status),
            _ => new AmazonSQSException(message, type, code, null, status),
        };
    }

    private static int SendSize(SendMessageRequest request)
    {
        var size = Encoding.UTF8.GetByteCount(request.MessageBody ?? string.Empty);
        foreach (var (name, value) in request.MessageAttributes ?? [])
        {
            size += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value.DataType ?? string.Empty) + Encoding.UTF8.GetByteCount(value.StringValue ?? string.Empty) + (value.BinaryValue is { } binary ? (int)binary.Length : 0);
        }

        return size;
    }
}
