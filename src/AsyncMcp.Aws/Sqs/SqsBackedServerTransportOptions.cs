using AsyncMcp.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings shared by server transports that receive from an SQS queue (SQS, SNS+SQS).</summary>
public abstract class SqsBackedServerTransportOptions : AsyncMcpServerTransportOptions
{
    /// <summary>Creates the options; sends are retried for up to 60 seconds (<see cref="Messaging.SendRetryOptions.ForQueues"/>), so that answers ride out a broker restart.</summary>
    protected SqsBackedServerTransportOptions() => SendRetry = Messaging.SendRetryOptions.ForQueues();

    /// <summary>The most messages received at once, 1 to 10. Default 10.</summary>
    public int ReceiveBatchSize { get; set; } = 10;

    /// <summary>The long-poll wait, 0 to 20 whole seconds. Default 20 seconds.</summary>
    public TimeSpan WaitTime { get; set; } = SqsLimits.MaxWaitTime;

    /// <summary>How long a received request stays invisible to other servers; renewed while the request runs. Default 30 seconds.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An upper bound on message size below the destination's own limit; <see langword="null"/> (default) uses the destination's.</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>
    /// Offload messages too large for the destination to this S3 bucket (the SQS Extended Client claim-check format).
    /// <see langword="null"/> (default): an oversized message is refused with a clear error instead.
    /// </summary>
    public LargePayloads.SqsLargePayloadOptions? LargePayloads { get; set; }

    /// <summary>
    /// The AWS endpoint, for an emulator or a VPC endpoint, when the hosting extension creates the AWS clients.
    /// <see langword="null"/> (default) uses the standard AWS configuration (including <c>AWS_ENDPOINT_URL</c>).
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region, when the hosting extension creates the AWS clients; <see langword="null"/> (default) uses the standard AWS configuration.</summary>
    public string? Region { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        SqsLimits.ValidateSqsBacked(GetType().Name, ReceiveBatchSize, WaitTime, VisibilityTimeout, MaxMessageBytes, LargePayloads);
    }
}
