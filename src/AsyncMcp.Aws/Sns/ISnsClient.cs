namespace AsyncMcp.Aws.Sns;

/// <summary>
/// The few Amazon SNS operations AsyncMcp needs. <see cref="SnsQueryClient"/> implements them over HTTP with
/// SigV4; replace it (for example with a wrapper around another SNS client) by registering your own.
/// </summary>
public interface ISnsClient
{
    /// <summary>Publishes one message to a topic.</summary>
    /// <param name="request">What to publish.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The SNS message id.</returns>
    /// <exception cref="SnsRequestException">SNS refused the request or could not be reached.</exception>
    Task<string> PublishAsync(SnsPublishRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Publishes up to ten messages to one topic in one request (<c>PublishBatch</c>). Each message succeeds or fails on
    /// its own. The default publishes them one by one; <see cref="SnsQueryClient"/> makes one request.
    /// </summary>
    /// <param name="topicArn">The topic every message goes to.</param>
    /// <param name="requests">The messages, at most ten, 256 KiB together.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>For each message, in order, <see langword="null"/> when it was published, else the error it got.</returns>
    /// <exception cref="SnsRequestException">SNS refused the whole request or could not be reached.</exception>
    async Task<IReadOnlyList<SnsRequestException?>> PublishBatchAsync(string topicArn, IReadOnlyList<SnsPublishRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var results = new SnsRequestException?[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            try
            {
                await PublishAsync(requests[i] with { TopicArn = topicArn }, cancellationToken).ConfigureAwait(false);
            }
            catch (SnsRequestException ex)
            {
                results[i] = ex;
            }
        }

        return results;
    }

    /// <summary>Creates a topic, or returns the ARN of the existing topic of that name.</summary>
    /// <param name="name">The topic name; end it in <c>.fifo</c> for a FIFO topic.</param>
    /// <param name="attributes">Topic attributes, for example <c>FifoTopic</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The topic ARN.</returns>
    Task<string> CreateTopicAsync(string name, IReadOnlyDictionary<string, string>? attributes = null, CancellationToken cancellationToken = default);

    /// <summary>Subscribes an endpoint (an SQS queue ARN, with protocol <c>sqs</c>) to a topic.</summary>
    /// <param name="topicArn">The topic.</param>
    /// <param name="protocol">The protocol, <c>sqs</c> for queues.</param>
    /// <param name="endpoint">The endpoint, the queue ARN for <c>sqs</c>.</param>
    /// <param name="attributes">Subscription attributes such as <c>RawMessageDelivery</c> and <c>FilterPolicy</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The subscription ARN.</returns>
    Task<string> SubscribeAsync(string topicArn, string protocol, string endpoint, IReadOnlyDictionary<string, string>? attributes = null, CancellationToken cancellationToken = default);
}

/// <summary>One message to publish.</summary>
/// <param name="TopicArn">The topic.</param>
/// <param name="Message">The message body.</param>
public sealed record SnsPublishRequest(string TopicArn, string Message)
{
    /// <summary>Message attributes by name.</summary>
    public IReadOnlyDictionary<string, SnsAttributeValue> MessageAttributes { get; init; } = new Dictionary<string, SnsAttributeValue>();

    /// <summary>The message group, required on FIFO topics.</summary>
    public string? MessageGroupId { get; init; }

    /// <summary>The deduplication id, for FIFO topics without content-based deduplication.</summary>
    public string? MessageDeduplicationId { get; init; }
}

/// <summary>One message attribute.</summary>
/// <param name="DataType"><c>String</c> or <c>Number</c>.</param>
/// <param name="Value">The value.</param>
public readonly record struct SnsAttributeValue(string DataType, string Value);
