using Amazon;
using Amazon.SQS;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Creates SQS clients from the standard AWS configuration chain, with an optional endpoint and region.</summary>
public static class SqsClientFactory
{
    /// <summary>Creates an SQS client.</summary>
    /// <param name="serviceUrl">An endpoint (an emulator, a VPC endpoint), or <see langword="null"/> for the standard configuration.</param>
    /// <param name="region">A region, or <see langword="null"/> for the standard configuration.</param>
    /// <returns>The client; the caller disposes it.</returns>
    public static IAmazonSQS Create(string? serviceUrl = null, string? region = null)
    {
        var config = new AmazonSQSConfig();
        if (!string.IsNullOrWhiteSpace(region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        if (!string.IsNullOrWhiteSpace(serviceUrl))
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        }

        return new AmazonSQSClient(config);
    }
}
