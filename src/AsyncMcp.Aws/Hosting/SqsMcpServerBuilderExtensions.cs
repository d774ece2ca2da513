using Amazon.SQS;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sqs;
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
    /// container, or creates them from <see cref="SqsBackedServerTransportOptions.ServiceUrl"/>,
    /// <see cref="SqsBackedServerTransportOptions.Region"/> and the standard AWS configuration.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSqsServerTransport(this IMcpServerBuilder builder, Action<SqsServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
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
