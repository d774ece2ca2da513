using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// An MCP server fed by a queue: one receive loop on the request queue hands each message to a
/// <see cref="MessageDispatcher"/>, and shutdown is ordered (stop receiving, drain, close sessions). Broker packages
/// compose it with their own <see cref="IMessageSource"/> and <see cref="IMessageSink"/>. One of several workers on a
/// queue also reads a queue of its own, where its sessions' messages come (handed over by another worker, or sent there
/// by the client).
/// </summary>
internal sealed class McpQueueServer : IAsyncDisposable
{
    private readonly ReceiveLoop _loop;
    private readonly ReceiveLoop? _ownLoop;
    private readonly TimeSpan _drainTimeout;
    private int _started;
    private int _disposed;

    /// <param name="source">The request queue.</param>
    /// <param name="sink">Sends replies; sends are retried on passing failures.</param>
    /// <param name="convention">Where requests carry their reply address.</param>
    /// <param name="options">Session and back-pressure settings.</param>
    /// <param name="receiveBatchSize">The most messages to receive at once.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources).</param>
    /// <param name="deadLetters">Whether the queue has a dead-letter queue.</param>
    /// <param name="messagingSystem">The <c>messaging.system</c> of spans, such as <c>aws_sqs</c>.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider for tool dependencies.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="ownSource">This worker's own queue, when it is one of several on the queue.</param>
    /// <param name="placement">Where sessions live when there are several workers.</param>
    /// <param name="maxReceiveCount">The redrive policy's <c>maxReceiveCount</c>, when there is a dead-letter queue.</param>
    public McpQueueServer(
        IMessageSource source,
        IMessageSink sink,
        ReplyAddressConvention convention,
        AsyncMcpServerTransportOptions options,
        int receiveBatchSize,
        McpServerOptions serverOptions,
        bool deadLetters,
        string messagingSystem,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        TimeProvider? timeProvider = null,
        IMessageSource? ownSource = null,
        ISessionPlacement? placement = null,
        int? maxReceiveCount = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var retryingSink = new RetryingMessageSink(sink, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>()) { MessagingSystem = messagingSystem };
        var endpoint = new InboundEndpoint
        {
            MessagingSystem = messagingSystem,
            Description = source.Description,
            LeaseDuration = source.LeaseDuration,
            DeadLetters = deadLetters,
            MaxReceiveCount = maxReceiveCount,
        };
        Dispatcher = new MessageDispatcher(retryingSink, convention, options, serverOptions, endpoint, loggerFactory, services, timeProvider, placement);
        _loop = new ReceiveLoop(source, (message, ct) => Dispatcher.DispatchAsync(message, ct), receiveBatchSize, Dispatcher.Limiter, isFatal: null, loggerFactory?.CreateLogger<ReceiveLoop>());
        if (ownSource is not null)
        {
            _ownLoop = new ReceiveLoop(ownSource, (message, ct) => Dispatcher.DispatchAsync(message, ownSource.Description, ct), receiveBatchSize, Dispatcher.Limiter, isFatal: null, loggerFactory?.CreateLogger<ReceiveLoop>());
        }

        _drainTimeout = options.ShutdownDrainTimeout;
    }

    public MessageDispatcher Dispatcher { get; }

    /// <summary>The receive loops: the request queue's, and this worker's own queue's when it has one.</summary>
    public IReadOnlyList<ReceiveLoop> ReceiveLoops => _ownLoop is null ? [_loop] : [_loop, _ownLoop];

    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        Dispatcher.Start();
        _ownLoop?.Start();
        _loop.Start();
    }

    /// <summary>
    /// Stops taking work: receiving from the request queue stops at once (a long poll in flight is ended), new requests
    /// are refused; requests in flight get up to the drain timeout, while this worker's own queue still brings what
    /// they need (the client's answers, cancellations); then every session is closed (clients that understand it are
    /// told) and unfinished requests go back to the broker. Safe to call more than once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _loop.DisposeAsync().ConfigureAwait(false);
        Dispatcher.BeginDrain();
        if (_ownLoop is not null)
        {
            // The dispatcher's stop below waits only for what is left of the same drain timeout.
            await Dispatcher.DrainAsync(_drainTimeout).ConfigureAwait(false);
            await _ownLoop.DisposeAsync().ConfigureAwait(false);
        }

        await Dispatcher.DisposeAsync().ConfigureAwait(false);
    }
}
