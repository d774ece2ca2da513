using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// An MCP server fed by a queue: one receive loop on the request queue, a <see cref="McpSessionRouter"/> that
/// runs one <see cref="McpServer"/> per session, and orderly shutdown. Broker packages compose this with their
/// own <see cref="IMessageSource"/> and <see cref="IMessageSink"/>.
/// </summary>
public sealed class McpQueueServer : IAsyncDisposable
{
    private readonly ReceiveLoop _loop;
    private int _started;
    private int _disposed;

    /// <summary>Creates a server; call <see cref="Start"/> to begin receiving.</summary>
    /// <param name="source">The request queue.</param>
    /// <param name="sink">Sends replies.</param>
    /// <param name="convention">Where requests carry their reply address.</param>
    /// <param name="options">Session and back-pressure settings.</param>
    /// <param name="receiveBatchSize">The most messages to receive at once.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources).</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider for tool dependencies.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="messagingSystem">The <c>messaging.system</c> of send spans, such as <c>aws_sqs</c>.</param>
    public McpQueueServer(
        IMessageSource source,
        IMessageSink sink,
        ReplyAddressConvention convention,
        AsyncMcpServerTransportOptions options,
        int receiveBatchSize,
        McpServerOptions serverOptions,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        TimeProvider? timeProvider = null,
        string messagingSystem = "asyncmcp")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var retryingSink = new RetryingMessageSink(sink, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>()) { MessagingSystem = messagingSystem };
        Router = new McpSessionRouter(retryingSink, convention, options, serverOptions, source.LeaseDuration, loggerFactory, services, timeProvider)
        {
            SourceDescription = source.Description,
            MessagingSystem = messagingSystem,
        };
        _loop = new ReceiveLoop(
            source,
            Router.HandleAsync,
            receiveBatchSize,
            Router.Limiter,
            isFatal: null,
            loggerFactory?.CreateLogger<ReceiveLoop>());
    }

    /// <summary>The router, for its counters.</summary>
    public McpSessionRouter Router { get; }

    /// <summary>Starts receiving requests.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        Router.Start();
        _loop.Start();
    }

    /// <summary>
    /// Stops receiving at once (a long poll in flight is cancelled), waits for requests in flight up to the drain
    /// timeout, hands unfinished requests back to the broker and closes every session. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _loop.DisposeAsync().ConfigureAwait(false);
        await Router.DisposeAsync().ConfigureAwait(false);
    }
}
