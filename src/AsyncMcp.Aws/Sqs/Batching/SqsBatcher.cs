using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging.Batching;

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
    private readonly BatchLanes<SendMessageRequest> _sends;
    private readonly BatchLanes<DeleteMessageRequest> _deletes;
    private readonly BatchLanes<ChangeMessageVisibilityRequest> _visibility;

    private SqsBatcher(IAmazonSQS sqs)
    {
        _sqs = sqs;
        _sends = new(SendBatchAsync, SendSize, BatchLimits.Aws(MaxSendBatchBytes));
        _deletes = new(DeleteBatchAsync, static _ => 0, BatchLimits.Aws(int.MaxValue));
        _visibility = new(VisibilityBatchAsync, static _ => 0, BatchLimits.Aws(int.MaxValue));
    }

    /// <summary>The batcher of an SQS client.</summary>
    public static SqsBatcher For(IAmazonSQS sqs)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        return s_batchers.GetValue(sqs, static client => new SqsBatcher(client));
    }

    /// <summary>Sends a message, alone or in a batch with others sent to the same queue at the same moment.</summary>
    public Task SendAsync(SendMessageRequest request, CancellationToken cancellationToken = default) =>
        _sends.SubmitAsync(request.QueueUrl, request, cancellationToken);

    /// <summary>Deletes a message, alone or in a batch with other deletes on the same queue at the same moment.</summary>
    public Task DeleteAsync(string queueUrl, string receiptHandle, CancellationToken cancellationToken = default) =>
        _deletes.SubmitAsync(queueUrl, new DeleteMessageRequest { QueueUrl = queueUrl, ReceiptHandle = receiptHandle }, cancellationToken);

    /// <summary>Changes a message's visibility timeout, alone or in a batch with other changes on the same queue.</summary>
    public Task ChangeVisibilityAsync(string queueUrl, string receiptHandle, int visibilityTimeoutSeconds, CancellationToken cancellationToken = default) =>
        _visibility.SubmitAsync(
            queueUrl,
            new ChangeMessageVisibilityRequest { QueueUrl = queueUrl, ReceiptHandle = receiptHandle, VisibilityTimeout = visibilityTimeoutSeconds },
            cancellationToken);

    /// <summary>How many operations on <paramref name="queueUrl"/> wait for a batch (not those in flight).</summary>
    internal int Waiting(string queueUrl) =>
        _sends.WaitingCount(queueUrl) + _deletes.WaitingCount(queueUrl) + _visibility.WaitingCount(queueUrl);

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
