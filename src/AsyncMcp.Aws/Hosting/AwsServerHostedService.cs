using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncMcp.Aws.Hosting;

/// <summary>
/// Runs one AWS server transport for the lifetime of a host: validates its options at start (so a bad option fails
/// host start with a message that names it), resolves the AWS clients it needs, starts it, and disposes it and any
/// client it created on stop.
/// </summary>
internal sealed class AwsServerHostedService<TTransport>(
    SqsBackedServerTransportOptions options,
    IServiceProvider services,
    Func<AwsClients, TTransport> create,
    Func<TTransport, CancellationToken, Task> start) : IHostedService, IAsyncDisposable
    where TTransport : class, IAsyncDisposable
{
    private AwsClients? _clients;
    private TTransport? _transport;
    private Diagnostics.IServerHealthProbe? _probe;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        _clients = new AwsClients(services, options);
        _transport = create(_clients);
        await start(_transport, cancellationToken).ConfigureAwait(false);
        if (_transport is SqsBackedServerTransport queueServer && services.GetService<Diagnostics.ServerHealthRegistry>() is { } health)
        {
            _probe = queueServer.HealthProbe;
            health.Add(_probe);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _probe, null) is { } probe)
        {
            services.GetService<Diagnostics.ServerHealthRegistry>()?.Remove(probe);
        }

        if (Interlocked.Exchange(ref _transport, null) is { } transport)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _clients, null)?.Dispose();
    }
}

/// <summary>
/// The AWS clients of a hosted transport: those registered in the container (<c>AddAWSService&lt;IAmazonSQS&gt;()</c>), or
/// ones created from the host's AWS options (<see cref="AwsClientFactory"/>) and the transport's <c>ServiceUrl</c> and
/// <c>Region</c>, and disposed with the host.
/// </summary>
internal sealed class AwsClients(IServiceProvider services, SqsBackedServerTransportOptions options) : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public IAmazonSQS Sqs => field ??= services.GetService<IAmazonSQS>() ?? Own(AwsClientFactory.CreateSqs(options.ServiceUrl, options.Region, services));

    public ISnsClient Sns => field ??= services.GetService<ISnsClient>() ?? Own(CreateSns());

    /// <summary>The S3 client, only when large payloads are offloaded.</summary>
    public IAmazonS3? S3 => options.LargePayloads is null ? null : field ??= services.GetService<IAmazonS3>() ?? Own(AwsClientFactory.CreateS3(options.ServiceUrl, options.Region, services));

    private SnsQueryClient CreateSns()
    {
        // Our own SNS client follows the same AWS options as the SDK's clients.
        var aws = AwsClientFactory.HostOptions(services);
        return new SnsQueryClient(new SnsQueryClientOptions
        {
            ServiceUrl = options.ServiceUrl ?? aws?.DefaultClientConfig.ServiceURL,
            Region = options.Region ?? aws?.Region?.SystemName,
            Credentials = aws?.GetCredentials(),
        });
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _owned.Clear();
    }

    private T Own<T>(T client)
        where T : IDisposable
    {
        _owned.Add(client);
        return client;
    }
}
