namespace AsyncMcp.Aws.LargePayloads;

/// <summary>
/// Offloads messages too large for a queue to S3 and sends a small pointer instead (the claim-check format of the
/// Amazon SQS Extended Client libraries), so that tool arguments and results are not limited by the queue's size.
/// </summary>
public sealed class SqsLargePayloadOptions
{
    /// <summary>The bucket that holds offloaded payloads. Required.</summary>
    public string BucketName { get; set; } = string.Empty;

    /// <summary>Messages larger than this many bytes are offloaded; <see langword="null"/> (default) offloads only what the destination queue would refuse.</summary>
    public int? ThresholdBytes { get; set; }

    /// <summary>The prefix of the object keys. Default <c>asyncmcp/</c>.</summary>
    public string KeyPrefix { get; set; } = "asyncmcp/";

    internal void Validate(string owner)
    {
        if (string.IsNullOrWhiteSpace(BucketName))
        {
            throw new ArgumentException($"{owner}.LargePayloads.BucketName is required when large payloads are offloaded.");
        }

        if (ThresholdBytes is < 1)
        {
            throw new ArgumentException($"{owner}.LargePayloads.ThresholdBytes must be positive (was {ThresholdBytes}).");
        }
    }
}
