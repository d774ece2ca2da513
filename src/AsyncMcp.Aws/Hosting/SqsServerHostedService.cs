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
    Amazon.S3.IAmazonS3? s3,
    ILoggerFactory? loggerFactory,
    IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private IAmazonSQS? _ownedSqs;
    private Amazon.S3.IAmazonS3? _ownedS3;
    private SqsServerTransport? _transport;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail host start with a message that names the bad option.
        options.Validate();
        var client = sqs ?? (_ownedSqs = AwsClientFactory.CreateSqs(options.ServiceUrl, options.Region));
        var storage = options.LargePayloads is null ? null : s3 ?? (_ownedS3 = AwsClientFactory.CreateS3(options.ServiceUrl, options.Region));
        _transport = new SqsServerTransport(client, options, serverOptions, loggerFactory, services, storage);
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
        Interlocked.Exchange(ref _ownedS3, null)?.Dispose();
    }
}
