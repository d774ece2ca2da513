using AsyncMcp.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// What the server transports that receive from an SQS queue (<see cref="SqsServerTransport"/>,
/// <see cref="SnsSqs.SnsSqsServerTransport"/>) have in common: they start, and they stop in order. They differ only in
/// where replies go.
/// </summary>
public abstract class SqsBackedServerTransport : IAsyncDisposable
{
    private readonly SqsBackedServer _server;

    private protected SqsBackedServerTransport(SqsBackedServer server) => _server = server;

    /// <summary>The dispatcher, once started: its counters for tests and benchmarks.</summary>
    internal MessageDispatcher? Dispatcher => _server.Dispatcher;

    /// <summary>What the AsyncMcp health check asks about this server.</summary>
    internal Diagnostics.IServerHealthProbe HealthProbe => _server.HealthProbe;

    /// <summary>
    /// This server's worker id once started (8 hex digits, the first part of every session id it issues), or
    /// <see langword="null"/> when <see cref="SqsBackedServerTransportOptions.Workers"/> is disabled.
    /// </summary>
    public string? WorkerId => _server.WorkerId;

    /// <summary>Checks that the queue exists, then starts receiving.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that completes once the server is receiving.</returns>
    /// <exception cref="Messaging.AsyncMcpTransportException">The queue does not exist or cannot be reached.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => _server.StartAsync(cancellationToken);

    /// <summary>
    /// Stops receiving at once (ending a long poll in flight), waits for requests in flight up to
    /// <see cref="AsyncMcpServerTransportOptions.ShutdownDrainTimeout"/>, returns unfinished requests to the queue and
    /// closes every session. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return _server.DisposeAsync();
    }
}
