using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// One received SQS message, acknowledged by deleting it and released by setting its visibility to zero; deletes and
/// visibility changes on one queue that wait at the same moment go out as one batch request.
/// </summary>
internal sealed class SqsInboundMessage(
    IAmazonSQS sqs,
    string queueUrl,
    string messageId,
    string receiptHandle,
    string body,
    IReadOnlyDictionary<string, string> attributes,
    int receiveCount) : IInboundMessage
{
    public string MessageId { get; } = messageId;

    public string Body { get; } = body;

    public IReadOnlyDictionary<string, string> Attributes { get; } = attributes;

    public int ReceiveCount { get; } = receiveCount;

    public string ReceiptHandle { get; } = receiptHandle;

    /// <summary>When SQS accepted the message (its <c>SentTimestamp</c>), if it was asked for.</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>The queue it was received from.</summary>
    public string QueueUrl { get; } = queueUrl;

    /// <summary>The body as the broker delivered it (an SNS envelope, an S3 pointer), to send it on unchanged.</summary>
    public string RawBody { get; init; } = body;

    /// <summary>The message attributes as the broker delivered them, to send the message on unchanged.</summary>
    public Dictionary<string, MessageAttributeValue>? RawAttributes { get; init; }

    /// <summary>Where the payload was stored in S3, if it was offloaded; removed once the message is completed.</summary>
    public (string Bucket, string Key)? OffloadedPayload { get; init; }

    public LargePayloads.S3PayloadStore? Payloads { get; init; }

    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        await CompleteHandedOverAsync(cancellationToken).ConfigureAwait(false);
        if (OffloadedPayload is { } payload && Payloads is not null)
        {
            // The message is processed and deleted: its payload is no longer needed.
            await Payloads.DeleteAsync(payload.Bucket, payload.Key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the message but not its offloaded payload, which a copy sent on (to the worker holding its session) still points to.</summary>
    public async Task CompleteHandedOverAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Batching.SqsBatcher.For(sqs).DeleteAsync(QueueUrl, ReceiptHandle, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonSQSException ex) when (ex is not QueueDoesNotExistException)
        {
            throw SqsErrors.Wrap("DeleteMessage", QueueUrl, ex);
        }
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Batching.SqsBatcher.For(sqs).ChangeVisibilityAsync(QueueUrl, ReceiptHandle, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (ReceiptHandleIsInvalidException)
        {
            // Already visible again or gone: nothing to release.
        }
        catch (AmazonSQSException ex)
        {
            throw SqsErrors.Wrap("ChangeMessageVisibility", QueueUrl, ex);
        }
    }

    public async Task<bool> ExtendAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        try
        {
            await Batching.SqsBatcher.For(sqs).ChangeVisibilityAsync(QueueUrl, ReceiptHandle, (int)Math.Ceiling(duration.TotalSeconds), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is ReceiptHandleIsInvalidException or MessageNotInflightException)
        {
            return false;
        }
        catch (AmazonSQSException ex)
        {
            throw SqsErrors.Wrap("ChangeMessageVisibility", QueueUrl, ex);
        }
    }
}
