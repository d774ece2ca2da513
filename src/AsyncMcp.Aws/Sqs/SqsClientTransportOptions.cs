using AsyncMcp.Client;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings of an MCP client that talks to a server over SQS.</summary>
public sealed class SqsClientTransportOptions : AsyncMcpClientTransportOptions
{
    /// <summary>The URL of the server's request queue. Required.</summary>
    public string ServerRequestQueueUrl { get; set; } = string.Empty;

    /// <summary>The URL of this client's own response queue (may be shared with other clients). Required.</summary>
    public string ResponseQueueUrl { get; set; } = string.Empty;

    /// <summary>The most replies received at once, 1 to 10. Default 10.</summary>
    public int ReceiveBatchSize { get; set; } = 10;

    /// <summary>The long-poll wait, 0 to 20 whole seconds. Default 20 seconds.</summary>
    public TimeSpan WaitTime { get; set; } = SqsLimits.MaxWaitTime;

    /// <summary>How long a received reply stays invisible to other clients of a shared queue before it is acknowledged. Default 30 seconds.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An upper bound on message size below the server queue's own <c>MaximumMessageSize</c>; <see langword="null"/> (default) uses the queue's.</summary>
    public int? MaxMessageBytes { get; set; }

    /// <summary>A name for logs. Default <c>sqs</c>.</summary>
    public string Name { get; set; } = "sqs";

    /// <summary>
    /// Offload messages too large for the queue to this S3 bucket (the SQS Extended Client claim-check format).
    /// <see langword="null"/> (default): an oversized message is refused with a clear error instead.
    /// </summary>
    public LargePayloads.SqsLargePayloadOptions? LargePayloads { get; set; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        LargePayloads?.Validate(nameof(SqsClientTransportOptions));
        SqsLimits.ValidateQueueUrl(nameof(SqsClientTransportOptions), nameof(ServerRequestQueueUrl), ServerRequestQueueUrl);
        SqsLimits.ValidateQueueUrl(nameof(SqsClientTransportOptions), nameof(ResponseQueueUrl), ResponseQueueUrl);
        SqsLimits.ValidateReceive(nameof(SqsClientTransportOptions), ReceiveBatchSize, WaitTime, VisibilityTimeout);
        // An offloaded message carries one more attribute, its original size.
        var reserved = SqsLimits.ReservedMessageAttributes + (LargePayloads is null ? 0 : 1);
        var allowed = SqsLimits.MaxMessageAttributes - reserved;
        if (MessageAttributes.Count > allowed)
        {
            throw new ArgumentException(
                $"{nameof(SqsClientTransportOptions)}.{nameof(MessageAttributes)} has {MessageAttributes.Count} attributes; SQS allows {SqsLimits.MaxMessageAttributes} per message and AsyncMcp uses {reserved}, so at most {allowed} may be added.");
        }

        if (MaxMessageBytes is < 1024)
        {
            throw new ArgumentException($"{nameof(SqsClientTransportOptions)}.{nameof(MaxMessageBytes)} must be at least 1024 (was {MaxMessageBytes}).");
        }
    }
}
