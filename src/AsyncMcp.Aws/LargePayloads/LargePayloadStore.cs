using Amazon.S3;

namespace AsyncMcp.Aws.LargePayloads;

internal static class LargePayloadStore
{
    /// <summary>The payload store for the options, or null when offload is off; refuses a configuration without an S3 client.</summary>
    public static S3PayloadStore? Create(SqsLargePayloadOptions? options, IAmazonS3? s3, string owner)
    {
        if (options is null)
        {
            return null;
        }

        return s3 is null
            ? throw new ArgumentException($"{owner}.LargePayloads is set, so an IAmazonS3 client must be passed to the transport.")
            : new S3PayloadStore(s3, options);
    }
}
