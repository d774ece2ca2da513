using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Hosting;

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
        builder.Services.AddHostedService(sp => new SnsSqsServerHostedService(
            sp.GetRequiredService<IOptions<SnsSqsServerTransportOptions>>().Value,
            sp.GetRequiredService<IOptions<McpServerOptions>>().Value,
            sp,
            sp.GetService<ILoggerFactory>()));
        return builder;
    }

    private sealed class SnsSqsServerHostedService(
        SnsSqsServerTransportOptions options,
        McpServerOptions serverOptions,
        IServiceProvider services,
        ILoggerFactory? loggerFactory) : IHostedService, IAsyncDisposable
    {
        private readonly List<IDisposable> _owned = [];
        private SnsSqsServerTransport? _transport;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            options.Validate();
            var sqs = services.GetService<IAmazonSQS>() ?? Own(AwsClientFactory.CreateSqs(options.ServiceUrl, options.Region));
            var sns = services.GetService<ISnsClient>() ?? Own(new SnsQueryClient(new SnsQueryClientOptions { ServiceUrl = options.ServiceUrl, Region = options.Region }));
            var s3 = options.LargePayloads is null ? null : services.GetService<IAmazonS3>() ?? Own(AwsClientFactory.CreateS3(options.ServiceUrl, options.Region));
            _transport = new SnsSqsServerTransport(sqs, sns, options, serverOptions, loggerFactory, services, s3);
            await _transport.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _transport, null) is { } transport)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var owned in _owned)
            {
                owned.Dispose();
            }

            _owned.Clear();
        }

        private T Own<T>(T disposable)
            where T : IDisposable
        {
            _owned.Add(disposable);
            return disposable;
        }
    }
}
