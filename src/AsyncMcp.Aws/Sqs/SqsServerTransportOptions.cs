using AsyncMcp.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings of an MCP server that serves clients from one SQS request queue.</summary>
public sealed class SqsServerTransportOptions : AsyncMcpServerTransportOptions
{
    /// <summary>The URL of the queue the server receives requests from. Required.</summary>
    public string RequestQueueUrl { get; set; } = string.Empty;

    /// <summary>The most messages received at once, 1 to 10. Default 10.</summary>
    public int ReceiveBatchSize { get; set; } = 10;

    /// <summary>The long-poll wait, 0 to 20 whole seconds. Default 20 seconds.</summary>
    public TimeSpan WaitTime { get; set; } = SqsLimits.MaxWaitTime;

    /// <summary>How long a received request stays invisible to other servers; renewed while the request runs. Default 30 seconds.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An upper bound on message size below the destination queue's own <c>MaximumMessageSize</c>; <see langword="null"/> (default) uses the queue's.</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>
    /// The SQS endpoint, for an emulator or a VPC endpoint, when the hosting extension creates the SQS client.
    /// <see langword="null"/> (default) uses the standard AWS configuration (including <c>AWS_ENDPOINT_URL</c>).
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region, when the hosting extension creates the SQS client; <see langword="null"/> (default) uses the standard AWS configuration.</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Offload messages too large for the queue to this S3 bucket (the SQS Extended Client claim-check format).
    /// <see langword="null"/> (default): an oversized message is refused with a clear error instead.
    /// </summary>
    public LargePayloads.SqsLargePayloadOptions? LargePayloads { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        LargePayloads?.Validate(nameof(SqsServerTransportOptions));
        SqsLimits.ValidateQueueUrl(nameof(SqsServerTransportOptions), nameof(RequestQueueUrl), RequestQueueUrl);
        SqsLimits.ValidateReceive(nameof(SqsServerTransportOptions), ReceiveBatchSize, WaitTime, VisibilityTimeout);
        if (MaxMessageBytes is < 1024)
        {
            throw new ArgumentException($"{nameof(SqsServerTransportOptions)}.{nameof(MaxMessageBytes)} must be at least 1024 (was {MaxMessageBytes}).");
        }
    }
}
