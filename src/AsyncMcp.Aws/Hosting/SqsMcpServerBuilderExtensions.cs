using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Hosting;

/// <summary>Registers the SQS server transport with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class SqsMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server's tools, prompts and resources over SQS, one session per client, for as long as the
    /// host runs. Uses the <see cref="IAmazonSQS"/> registered in the container, or creates one from
    /// <see cref="SqsBackedServerTransportOptions.ServiceUrl"/>, <see cref="SqsBackedServerTransportOptions.Region"/> and the
    /// standard AWS configuration.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithSqsServerTransport(this IMcpServerBuilder builder, Action<SqsServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.AddHostedService(sp => new SqsServerHostedService(
            sp.GetRequiredService<IOptions<SqsServerTransportOptions>>().Value,
            sp.GetRequiredService<IOptions<McpServerOptions>>().Value,
            sp.GetService<IAmazonSQS>(),
            sp.GetService<Amazon.S3.IAmazonS3>(),
            sp.GetService<ILoggerFactory>(),
            sp));
        return builder;
    }
}
