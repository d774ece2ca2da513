using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Long-polls one SQS queue, unwrapping SNS envelopes so that both raw and enveloped delivery work.</summary>
internal sealed partial class SqsMessageSource(IAmazonSQS sqs, string queueUrl, TimeSpan waitTime, TimeSpan visibilityTimeout, S3PayloadStore? payloads = null, ILogger? logger = null) : IMessageSource
{
    private static readonly List<string> s_allAttributes = ["All"];
    private static readonly List<string> s_systemAttributes = ["ApproximateReceiveCount", "SentTimestamp"];

    public string Description => queueUrl;

    public TimeSpan LeaseDuration => visibilityTimeout;

    public Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken) =>
        ReceiveAsync(maxMessages, waitTime, cancellationToken);

    /// <summary>Receives with a long-poll wait of its own instead of the configured one.</summary>
    public async Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, TimeSpan waitTime, CancellationToken cancellationToken)
    {
        ReceiveMessageResponse response;
        try
        {
            response = await sqs.ReceiveMessageAsync(
                new ReceiveMessageRequest
                {
                    QueueUrl = queueUrl,
                    MaxNumberOfMessages = Math.Clamp(maxMessages, 1, 10),
                    WaitTimeSeconds = (int)waitTime.TotalSeconds,
                    VisibilityTimeout = (int)Math.Ceiling(visibilityTimeout.TotalSeconds),
                    MessageAttributeNames = s_allAttributes,
                    MessageSystemAttributeNames = s_systemAttributes,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw SqsErrors.Wrap("ReceiveMessage", queueUrl, ex);
        }

        if (response.Messages is not { Count: > 0 } messages)
        {
            return [];
        }

        var result = new List<IInboundMessage>(messages.Count);
        foreach (var message in messages)
        {
            if (await ConvertAsync(message, cancellationToken).ConfigureAwait(false) is { } converted)
            {
                result.Add(converted);
            }
        }

        return result;
    }

    private ILogger Logger => logger ?? NullLogger.Instance;

    private async Task<SqsInboundMessage?> ConvertAsync(Message message, CancellationToken cancellationToken)
    {
        var body = message.Body ?? string.Empty;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (SnsEnvelope.TryUnwrap(body, out var payload, out var envelopeAttributes))
        {
            body = payload;
            foreach (var attribute in envelopeAttributes)
            {
                attributes[attribute.Key] = attribute.Value;
            }
        }

        // With raw delivery the attributes are SQS attributes; when a name is in both places, the SQS one wins.
        if (message.MessageAttributes is { } sqsAttributes)
        {
            foreach (var attribute in sqsAttributes)
            {
                if (attribute.Value.StringValue is { } value)
                {
                    attributes[attribute.Key] = value;
                }
            }
        }

        var receiveCount = 1;
        if (message.Attributes is { } system &&
            system.TryGetValue("ApproximateReceiveCount", out var countText) &&
            int.TryParse(countText, System.Globalization.CultureInfo.InvariantCulture, out var count))
        {
            receiveCount = count;
        }

        (string Bucket, string Key)? offloaded = null;
        if (payloads is not null &&
            (attributes.ContainsKey(S3PayloadStore.SizeAttribute) || attributes.ContainsKey(S3PayloadStore.LegacySizeAttribute)) &&
            S3PayloadStore.TryParsePointer(body, out var bucket, out var key))
        {
            try
            {
                body = await payloads.FetchAsync(bucket, key, cancellationToken).ConfigureAwait(false);
                offloaded = (bucket, key);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not handed on: the message stays invisible until its visibility timeout, is delivered again, and
                // after maxReceiveCount goes to the dead-letter queue. Nothing is lost to a passing S3 failure.
                LogPayloadUnreadable(Logger, message.MessageId ?? string.Empty, bucket, key, ex);
                return null;
            }
        }

        return new SqsInboundMessage(sqs, queueUrl, message.MessageId ?? string.Empty, message.ReceiptHandle ?? string.Empty, body, attributes, receiveCount)
        {
            OffloadedPayload = offloaded,
            Payloads = payloads,
            RawBody = message.Body ?? string.Empty,
            RawAttributes = message.MessageAttributes,
            SentAt = message.Attributes is { } sent && sent.TryGetValue("SentTimestamp", out var millisText) &&
                long.TryParse(millisText, System.Globalization.CultureInfo.InvariantCulture, out var millis)
                ? DateTimeOffset.FromUnixTimeMilliseconds(millis)
                : null,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: its payload s3://{Bucket}/{Key} could not be read; the message is left for redelivery.")]
    private static partial void LogPayloadUnreadable(ILogger logger, string messageId, string bucket, string key, Exception exception);
}
