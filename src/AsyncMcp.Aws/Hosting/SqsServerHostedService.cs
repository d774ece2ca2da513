using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Hosting;

/// <summary>Runs an <see cref="SqsServerTransport"/> for the lifetime of a host.</summary>
internal sealed class SqsServerHostedService(
    SqsServerTransportOptions options,
    McpServerOptions serverOptions,
    IAmazonSQS? sqs,
    ILoggerFactory? loggerFactory,
    IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private IAmazonSQS? _ownedSqs;
    private SqsServerTransport? _transport;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail host start with a message that names the bad option.
        options.Validate();
        var client = sqs ?? (_ownedSqs = SqsClientFactory.Create(options.ServiceUrl, options.Region));
        _transport = new SqsServerTransport(client, options, serverOptions, loggerFactory, services);
        await _transport.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _transport, null) is { } transport)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _ownedSqs, null)?.Dispose();
    }
}
