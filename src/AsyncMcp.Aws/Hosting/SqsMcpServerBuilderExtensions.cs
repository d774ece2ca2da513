using Amazon.SQS;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SQS server transport with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class SqsMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server's tools, prompts and resources over SQS, one session per client, for as long as the
    /// host runs. Uses the <see cref="IAmazonSQS"/> (and, for large payloads, <c>IAmazonS3</c>) registered in the
    /// container (<c>AddAWSService&lt;IAmazonSQS&gt;()</c>), or creates them from the host's AWS options
    /// (<c>AddDefaultAWSOptions</c>, else the <c>AWS</c> configuration section, else the AWS SDK's defaults), with
    /// <see cref="SqsBackedServerTransportOptions.ServiceUrl"/> and <see cref="SqsBackedServerTransportOptions.Region"/> overriding them where set.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSqsServerTransport(this IMcpServerBuilder builder, Action<SqsServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return Add(builder);
    }

    /// <summary>
    /// Serves the MCP server over SQS with its options bound from a configuration section, such as
    /// <c>builder.Configuration.GetSection("AsyncMcp:Sqs")</c> (keys named as the properties of <see cref="SqsServerTransportOptions"/>;
    /// durations as <c>hh:mm:ss</c>), then <paramref name="configure"/>. The options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configuration">The configuration section holding the transport options.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSqsServerTransport(this IMcpServerBuilder builder, IConfiguration configuration, Action<SqsServerTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = builder.Services.AddOptions<SqsServerTransportOptions>().BindReplacingLists(configuration);
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
            var options = sp.GetRequiredService<IOptions<SqsServerTransportOptions>>().Value;
            var serverOptions = sp.GetRequiredService<IOptions<McpServerOptions>>().Value;
            return new AwsServerHostedService<SqsServerTransport>(
                options,
                sp,
                clients => new SqsServerTransport(clients.Sqs, options, serverOptions, sp.GetService<ILoggerFactory>(), sp, clients.S3),
                (transport, ct) => transport.StartAsync(ct));
        });
        return builder;
    }
}
