using AsyncMcp.Client;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings shared by client transports that receive replies from an SQS queue (SQS, SNS+SQS).</summary>
public abstract class SqsBackedClientTransportOptions : AsyncMcpClientTransportOptions
{
    /// <summary>Creates the options; sends are retried for up to 60 seconds (<see cref="Messaging.SendRetryOptions.ForQueues"/>), so that requests ride out a broker restart.</summary>
    protected SqsBackedClientTransportOptions() => SendRetry = Messaging.SendRetryOptions.ForQueues();

    /// <summary>The most replies received at once, 1 to 10. Default 10.</summary>
    public int ReceiveBatchSize { get; set; } = 10;

    /// <summary>The long-poll wait, 0 to 20 whole seconds. Default 20 seconds.</summary>
    public TimeSpan WaitTime { get; set; } = SqsLimits.MaxWaitTime;

    /// <summary>
    /// How long a received reply stays invisible to other receivers before it is acknowledged (deleted at once when it is
    /// this connection's, handed back at once when not). Default 5 seconds. Kept short because a receive that a process
    /// abandoned (it was killed during a long poll) can still take the next reply on the queue, which then stays hidden
    /// for this long; a copy that reappears after a slow acknowledgement is recognised and dropped.
    /// </summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An upper bound on message size below the destination's own limit; <see langword="null"/> (default) uses the destination's.</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>
    /// Offload messages too large for the destination to this S3 bucket (the SQS Extended Client claim-check format).
    /// <see langword="null"/> (default): an oversized message is refused with a clear error instead.
    /// </summary>
    public LargePayloads.SqsLargePayloadOptions? LargePayloads { get; set; }

    /// <summary>
    /// Whether connections of this process that use the same SQS client and reply queue share one receive loop,
    /// which hands each reply to the connection it is addressed to. Default <see langword="true"/>. The shared loop
    /// uses the receive settings (<see cref="ReceiveBatchSize"/>, <see cref="WaitTime"/>, <see cref="VisibilityTimeout"/>)
    /// of the connection that started it. <see langword="false"/> gives this connection a loop of its own, which
    /// takes every reply from the queue and hands back those that are not its own.
    /// </summary>
    public bool ShareReplyQueue { get; set; } = true;

    /// <summary>A name for logs.</summary>
    public string Name { get; set; } = "sqs";

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        var name = GetType().Name;
        SqsLimits.ValidateSqsBacked(name, ReceiveBatchSize, WaitTime, VisibilityTimeout, MaxMessageBytes, LargePayloads);

        // An offloaded message carries one more attribute, its original size.
        var reserved = SqsLimits.ReservedMessageAttributes + (LargePayloads is null ? 0 : 1);
        var allowed = SqsLimits.MaxMessageAttributes - reserved;
        if (MessageAttributes.Count > allowed)
        {
            throw new ArgumentException(
                $"{name}.{nameof(MessageAttributes)} has {MessageAttributes.Count} attributes; SQS allows {SqsLimits.MaxMessageAttributes} per message and AsyncMcp uses {reserved}, so at most {allowed} may be added.");
        }
    }
}
