using System.Collections.Concurrent;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Sends messages to SQS queues by URL. Checks each message against the destination queue's own
/// <c>MaximumMessageSize</c> (read once per queue) so that an oversized message fails with a clear
/// <see cref="MessageTooLargeException"/> before it reaches the broker. Sends to one queue that wait at the same moment
/// go out as one <c>SendMessageBatch</c> (<see cref="Batching.SqsBatcher"/>).
/// </summary>
internal sealed class SqsMessageSink(IAmazonSQS sqs, int? maxMessageBytes, S3PayloadStore? payloads = null) : IMessageSink
{
    /// <summary>The SQS limit when a queue's own limit cannot be read.</summary>
    public const int DefaultMaxMessageBytes = 262_144;

    private readonly ConcurrentDictionary<string, Task<int>> _queueLimits = new(StringComparer.Ordinal);
    private readonly Batching.SqsBatcher _batcher = Batching.SqsBatcher.For(sqs);

    public async Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentNullException.ThrowIfNull(message);

        var limit = await GetLimitAsync(address, cancellationToken).ConfigureAwait(false);
        var encoded = await OutboundEncoder.EncodeAsync(message, limit, payloads, cancellationToken).ConfigureAwait(false);
        var attributes = encoded.Attributes.ToDictionary(
            a => a.Name,
            a => new MessageAttributeValue { DataType = a.DataType, StringValue = a.Value },
            StringComparer.Ordinal);

        var request = new SendMessageRequest { QueueUrl = address, MessageBody = encoded.Body, MessageAttributes = attributes };
        if (PreservesOrder(address))
        {
            request.MessageGroupId = string.IsNullOrEmpty(message.OrderingKey) ? "asyncmcp" : message.OrderingKey;
            request.MessageDeduplicationId = message.DeduplicationId;
        }

        try
        {
            await _batcher.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw SqsErrors.Wrap("SendMessage", address, ex);
        }
    }

    /// <summary>FIFO queues (names ending in <c>.fifo</c>) keep order within a message group.</summary>
    public bool PreservesOrder(string address) => address.EndsWith(".fifo", StringComparison.Ordinal);

    private Task<int> GetLimitAsync(string queueUrl, CancellationToken cancellationToken)
    {
        var task = _queueLimits.GetOrAdd(queueUrl, url => ReadLimitAsync(url, CancellationToken.None));
        if (task.IsFaulted || task.IsCanceled)
        {
            _queueLimits.TryRemove(new KeyValuePair<string, Task<int>>(queueUrl, task));
        }

        return task.WaitAsync(cancellationToken);
    }

    private async Task<int> ReadLimitAsync(string queueUrl, CancellationToken cancellationToken)
    {
        var queueLimit = DefaultMaxMessageBytes;
        try
        {
            var response = await sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["MaximumMessageSize"] },
                cancellationToken).ConfigureAwait(false);
            if (response.Attributes is { } values &&
                values.TryGetValue("MaximumMessageSize", out var text) &&
                int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                queueLimit = parsed;
            }
        }
        catch (QueueDoesNotExistException ex)
        {
            throw SqsErrors.Wrap("GetQueueAttributes", queueUrl, ex);
        }
        catch (AmazonSQSException ex) when (!SqsErrors.IsTransient(ex))
        {
            // Without permission to read attributes, fall back to the classic SQS limit.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SqsErrors.Wrap("GetQueueAttributes", queueUrl, ex);
        }

        return maxMessageBytes is { } configured ? Math.Min(configured, queueLimit) : queueLimit;
    }
}
