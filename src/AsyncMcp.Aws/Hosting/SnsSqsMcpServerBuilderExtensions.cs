using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SNS+SQS server transport with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class SnsSqsMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server over SNS+SQS for as long as the host runs. Uses the <see cref="IAmazonSQS"/>,
    /// <see cref="ISnsClient"/> and <see cref="IAmazonS3"/> registered in the container, or creates them from the
    /// options' <c>ServiceUrl</c> and <c>Region</c> and the standard AWS configuration.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSnsSqsServerTransport(this IMcpServerBuilder builder, Action<SnsSqsServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
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
