using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Extensions.NETCore.Setup;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.SQS;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncMcp.Aws;

/// <summary>
/// Creates the AWS clients a transport needs when the host registered none, with the AWS SDK's own .NET setup
/// (<c>AWSSDK.Extensions.NETCore.Setup</c>): the host's <see cref="AWSOptions"/> (<c>AddDefaultAWSOptions</c>), else the
/// <c>AWS</c> section of its configuration, else the SDK's defaults (environment, shared profile, instance role), so
/// region, profile, endpoint and credentials follow the AWS SDK's conventions. An endpoint or region given to the
/// transport itself (for an emulator) overrides them.
/// </summary>
internal static class AwsClientFactory
{
    public static IAmazonSQS CreateSqs(string? serviceUrl = null, string? region = null, IServiceProvider? services = null) =>
        Create<IAmazonSQS>(services, serviceUrl, region);

    /// <summary>A DynamoDB client (for <c>DynamoDbTaskStore</c>).</summary>
    public static IAmazonDynamoDB CreateDynamoDb(string? serviceUrl = null, string? region = null, IServiceProvider? services = null) =>
        Create<IAmazonDynamoDB>(services, serviceUrl, region);

    /// <summary>With an endpoint of its own the S3 client uses path-style addressing, as emulators need.</summary>
    public static IAmazonS3 CreateS3(string? serviceUrl = null, string? region = null, IServiceProvider? services = null) =>
        Create<IAmazonS3>(services, serviceUrl, region);

    /// <summary>The host's AWS options, or <see langword="null"/> when it has neither <see cref="AWSOptions"/> nor an <c>AWS</c> configuration section.</summary>
    public static AWSOptions? HostOptions(IServiceProvider? services) =>
        services?.GetService<AWSOptions>()
        ?? (services?.GetService<IConfiguration>() is { } configuration && configuration.GetSection("AWS").Exists() ? configuration.GetAWSOptions() : null);

    private static T Create<T>(IServiceProvider? services, string? serviceUrl, string? region)
        where T : class, IAmazonService
    {
        var host = HostOptions(services);
        var pathStyle = typeof(T) == typeof(IAmazonS3) && !string.IsNullOrWhiteSpace(serviceUrl ?? host?.DefaultClientConfig.ServiceURL);
        if (host is not null && string.IsNullOrWhiteSpace(serviceUrl) && string.IsNullOrWhiteSpace(region) && !pathStyle)
        {
            return host.CreateServiceClient<T>();
        }

        // The host's options are the host's: the transport's endpoint and region go on a copy.
        var options = new AWSOptions
        {
            Profile = host?.Profile,
            ProfilesLocation = host?.ProfilesLocation,
            Credentials = host?.Credentials,
            SessionRoleArn = host?.SessionRoleArn,
            SessionName = host?.SessionName ?? new AWSOptions().SessionName,
            ExternalId = host?.ExternalId,
            DefaultConfigurationMode = host?.DefaultConfigurationMode,
            Region = string.IsNullOrWhiteSpace(region) ? host?.Region : RegionEndpoint.GetBySystemName(region),
        };
        var endpoint = string.IsNullOrWhiteSpace(serviceUrl) ? host?.DefaultClientConfig.ServiceURL : serviceUrl;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            options.DefaultClientConfig.ServiceURL = endpoint;

            // An endpoint of one's own says nothing of the region to sign for.
            options.DefaultClientConfig.AuthenticationRegion = options.Region?.SystemName ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
            if (pathStyle)
            {
                options.DefaultClientConfig.ServiceSpecificSettings["ForcePathStyle"] = "true";
            }
        }

        return options.CreateServiceClient<T>();
    }
}
