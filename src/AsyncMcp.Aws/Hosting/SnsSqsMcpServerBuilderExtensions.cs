using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SNS+SQS server transport with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class SnsSqsMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server over SNS+SQS for as long as the host runs. Uses the <see cref="IAmazonSQS"/>,
    /// <see cref="ISnsClient"/> and <see cref="IAmazonS3"/> registered in the container (<c>AddAWSService&lt;IAmazonSQS&gt;()</c>),
    /// or creates them from the host's AWS options (<c>AddDefaultAWSOptions</c>, else the <c>AWS</c> configuration
    /// section, else the AWS SDK's defaults), with the options' <c>ServiceUrl</c> and <c>Region</c> overriding them where set.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSnsSqsServerTransport(this IMcpServerBuilder builder, Action<SnsSqsServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return Add(builder);
    }

    /// <summary>
    /// Serves the MCP server over SNS+SQS with its options bound from a configuration section, such as
    /// <c>builder.Configuration.GetSection("AsyncMcp:SnsSqs")</c> (keys named as the properties of <see cref="SnsSqsServerTransportOptions"/>;
    /// durations as <c>hh:mm:ss</c>), then <paramref name="configure"/>. The options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configuration">The configuration section holding the transport options.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSnsSqsServerTransport(this IMcpServerBuilder builder, IConfiguration configuration, Action<SnsSqsServerTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = builder.Services.AddOptions<SnsSqsServerTransportOptions>().BindReplacingLists(configuration);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Add(builder);
    }

    private static IMcpServerBuilder Add(IMcpServerBuilder builder)
    {
        builder.Services.AddHostedService(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SnsSqsServerTransportOptions>>().Value;
            var serverOptions = sp.GetRequiredService<IOptions<McpServerOptions>>().Value;
            return new AwsServerHostedService<SnsSqsServerTransport>(
                options,
                sp,
                clients => new SnsSqsServerTransport(clients.Sqs, clients.Sns, options, serverOptions, sp.GetService<ILoggerFactory>(), sp, clients.S3),
                (transport, ct) => transport.StartAsync(ct));
        });
        return builder;
    }
}
