using Amazon;
using Amazon.DynamoDBv2;
using Amazon.S3;
using Amazon.SQS;

namespace AsyncMcp.Aws;

/// <summary>Creates AWS clients from the standard AWS configuration chain, with an optional endpoint and region.</summary>
public static class AwsClientFactory
{
    /// <summary>Creates an SQS client.</summary>
    /// <param name="serviceUrl">An endpoint (an emulator, a VPC endpoint), or <see langword="null"/> for the standard configuration.</param>
    /// <param name="region">A region, or <see langword="null"/> for the standard configuration.</param>
    /// <returns>The client; the caller disposes it.</returns>
    public static IAmazonSQS CreateSqs(string? serviceUrl = null, string? region = null)
    {
        var config = new AmazonSQSConfig();
        Configure(config, serviceUrl, region);
        return new AmazonSQSClient(config);
    }

    /// <summary>Creates a DynamoDB client (for <c>DynamoDbTaskStore</c>).</summary>
    /// <param name="serviceUrl">An endpoint (an emulator, a VPC endpoint), or <see langword="null"/> for the standard configuration.</param>
    /// <param name="region">A region, or <see langword="null"/> for the standard configuration.</param>
    /// <returns>The client; the caller disposes it.</returns>
    public static IAmazonDynamoDB CreateDynamoDb(string? serviceUrl = null, string? region = null)
    {
        var config = new AmazonDynamoDBConfig();
        Configure(config, serviceUrl, region);
        return new AmazonDynamoDBClient(config);
    }

    /// <summary>Creates an S3 client for large-payload offload; with an endpoint it uses path-style addressing, as emulators need.</summary>
    /// <param name="serviceUrl">An endpoint, or <see langword="null"/> for the standard configuration.</param>
    /// <param name="region">A region, or <see langword="null"/> for the standard configuration.</param>
    /// <returns>The client; the caller disposes it.</returns>
    public static IAmazonS3 CreateS3(string? serviceUrl = null, string? region = null)
    {
        var config = new AmazonS3Config();
        Configure(config, serviceUrl, region);
        if (!string.IsNullOrWhiteSpace(serviceUrl))
        {
            config.ForcePathStyle = true;
        }

        return new AmazonS3Client(config);
    }

    private static void Configure(Amazon.Runtime.ClientConfig config, string? serviceUrl, string? region)
    {
        if (!string.IsNullOrWhiteSpace(region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        if (!string.IsNullOrWhiteSpace(serviceUrl))
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        }
    }
}
