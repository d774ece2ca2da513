using Amazon.Runtime;

namespace AsyncMcp.Aws.Sns;

/// <summary>Where and as whom <see cref="SnsQueryClient"/> calls SNS.</summary>
public sealed class SnsQueryClientOptions
{
    /// <summary>The SNS endpoint (an emulator, a VPC endpoint); <see langword="null"/> (default) uses <c>AWS_ENDPOINT_URL_SNS</c>, <c>AWS_ENDPOINT_URL</c>, or <c>https://sns.REGION.amazonaws.com</c>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The region; <see langword="null"/> (default) uses the standard AWS configuration (<c>AWS_REGION</c>, profile), then <c>us-east-1</c>.</summary>
    public string? Region { get; set; }

    /// <summary>The credentials; <see langword="null"/> (default) uses the standard AWS credential chain of AWSSDK.Core.</summary>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>The timeout of one HTTP request. Default 30 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
