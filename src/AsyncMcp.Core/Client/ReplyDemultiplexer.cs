using System.Collections.Concurrent;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Client;

/// <summary>
/// One receive loop for a reply queue that several client connections of this process share: each reply goes to
/// the connection it is addressed to, in the order the broker handed it out, instead of every connection polling
/// the queue and handing back what is not its own.
/// </summary>
/// <remarks>
/// <para>
/// A reply is routed by its <see cref="WireAttributes.ClientId"/> (AsyncMcp servers echo the connection's id), else
/// by its <see cref="WireAttributes.SessionId"/> once a connection has claimed that session, else (a server that
/// echoes neither on the answer that opens a session, as asyncmcp's Python server does) to the only connection
/// still waiting for its session, if there is exactly one.
/// </para>
/// <para>
/// The loop polls only while at least one connection is subscribed. When the last one leaves, a poll in flight is
/// ended cleanly when the source is an <see cref="IInterruptibleMessageSource"/> (and the leaving connection waits for
/// that, briefly), else left to finish rather than cancelled: a long poll abandoned mid-way can still take a message,
/// which then stays invisible for its visibility timeout. A process that exits after its last connection closed thus
/// leaves no poll behind to take the replies of the next process on the same queue.
/// </para>
/// <para>
/// A reply no connection here can claim is handed back to the broker at once: it may belong to a client in another
/// process. A reply for a connection that has already closed here is deleted, since its id is unique to that
/// connection and nobody else will take it.
/// </para>
/// </remarks>
internal sealed partial class ReplyDemultiplexer : IAsyncDisposable
{
    private const int ClosedIdsRemembered = 4096;
    private static readonly TimeSpan s_interruptWait = TimeSpan.FromSeconds(2);

    private readonly IMessageSource _source;
    private readonly ReceiveLoop _loop;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ReplySubscription> _byClient = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplySubscription> _bySession = new(StringComparer.Ordinal);
    private readonly HashSet<ReplySubscription> _subscriptions = [];
    private readonly HashSet<string> _closed = new(StringComparer.Ordinal);
    private readonly Queue<string> _closedOrder = new();
    private readonly BackgroundOperations _acks = new(behindQueuedWork: true);
    private TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _fault;
    private int _started;
    private int _disposed;

    /// <summary>Creates the demultiplexer; <see cref="Start"/> begins receiving.</summary>
    /// <param name="source">The shared reply queue.</param>
    /// <param name="receiveBatchSize">The most replies to receive at once.</param>
    /// <param name="isFatalReceiveError">Tells receive errors that cannot recover (a queue that does not exist) from passing ones; a fatal one ends every subscription with that error.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    public ReplyDemultiplexer(IMessageSource source, int receiveBatchSize, Func<Exception, bool>? isFatalReceiveError = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _logger = loggerFactory?.CreateLogger<ReplyDemultiplexer>() ?? NullLogger<ReplyDemultiplexer>.Instance;
        _loop = new ReceiveLoop(source, RouteAsync, receiveBatchSize, limiter: null, isFatalReceiveError, loggerFactory?.CreateLogger<ReceiveLoop>(), WaitForSubscribersAsync);
    }

    /// <summary>The shared queue, for logs.</summary>
    public string Description => _source.Description;

    /// <summary>How many connections are subscribed.</summary>
    public int SubscriptionCount
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count;
            }
        }
    }

    /// <summary>Completes when the receive loop has ended; faults with the error that ended it.</summary>
    public Task Completion => _loop.Completion;

    /// <summary>Starts the one receive loop. Safe to call more than once.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _loop.Start();
            _ = WatchLoopAsync();
        }
    }

    /// <summary>
    /// Subscribes a connection: the returned feed hands it the replies meant for it. Pass it to
    /// <see cref="AsyncMcpClientSessionTransport"/> as its reply feed; the transport claims its client id and session on
    /// it. Dispose the subscription when the connection closes.
    /// </summary>
    /// <returns>The connection's reply feed.</returns>
    /// <exception cref="ObjectDisposedException">The demultiplexer has been disposed.</exception>
    public ReplySubscription Subscribe()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var subscription = new ReplySubscription(this, _source.Description);
        lock (_gate)
        {
            if (_fault is { } fault)
            {
                subscription.Fail(fault);
            }

            _subscriptions.Add(subscription);
            _subscribed.TrySetResult();
        }

        return subscription;
    }

    /// <summary>Stops the receive loop and ends every subscription. Safe to call more than once; never throws.</summary>
    /// <returns>A task that completes when the loop has stopped and pending acknowledgements are done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _loop.DisposeAsync().ConfigureAwait(false);
        ReplySubscription[] remaining;
        lock (_gate)
        {
            remaining = [.. _subscriptions];
        }

        foreach (var subscription in remaining)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        await _acks.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    internal void ClaimClient(ReplySubscription subscription, string clientId)
    {
        lock (_gate)
        {
            if (_subscriptions.Contains(subscription))
            {
                _byClient[clientId] = subscription;
                subscription.ClientId = clientId;
            }
        }
    }

    internal void ClaimSession(ReplySubscription subscription, string sessionId)
    {
        lock (_gate)
        {
            if (_subscriptions.Contains(subscription))
            {
                _bySession[sessionId] = subscription;
                subscription.SessionId = sessionId;
            }
        }
    }

    internal async Task UnsubscribeAsync(ReplySubscription subscription)
    {
        var last = Unsubscribe(subscription);
        if (last && _source is IInterruptibleMessageSource interruptible && Volatile.Read(ref _started) != 0 && Volatile.Read(ref _disposed) == 0)
        {
            // Nobody is left to read what the poll in flight would take: end it now rather than let it run for nobody.
            using var wait = new CancellationTokenSource(s_interruptWait);
            try
            {
                await interruptible.InterruptAsync(wait.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogInterruptFailed(_source.Description, ex);
            }
        }
    }

    private bool Unsubscribe(ReplySubscription subscription)
    {
        lock (_gate)
        {
            if (!_subscriptions.Remove(subscription))
            {
                return false;
            }

            var last = _subscriptions.Count == 0;
            if (last)
            {
                _subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            if (subscription.ClientId is { } clientId && _byClient.Remove(clientId))
            {
                RememberClosed(clientId);
            }

            if (subscription.SessionId is { } sessionId && _bySession.Remove(sessionId))
            {
                RememberClosed(sessionId);
            }

            return last;
        }
    }

    /// <summary>Hands a message back to the broker in the background, logging rather than throwing.</summary>
    private void Release(IInboundMessage message) => _acks.Run(() => AcknowledgeQuietlyAsync(message, complete: false));

    private Task WaitForSubscribersAsync(CancellationToken cancellationToken)
    {
        Task subscribed;
        lock (_gate)
        {
            subscribed = _subscribed.Task;
        }

        return subscribed.WaitAsync(cancellationToken);
    }

    private async Task RouteAsync(IInboundMessage message, CancellationToken cancellationToken)
    {
        message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        ReplySubscription? target = null;
        var orphaned = false;
        lock (_gate)
        {
            if (!string.IsNullOrEmpty(clientId))
            {
                if (!_byClient.TryGetValue(clientId, out target))
                {
                    orphaned = _closed.Contains(clientId);
                }
                else if (!string.IsNullOrEmpty(sessionId) && target.SessionId is null)
                {
                    // Learn the session from the answer that opened it, so replies that name only the session find it too.
                    _bySession[sessionId] = target;
                    target.SessionId = sessionId;
                }
            }
            else if (!string.IsNullOrEmpty(sessionId) && _bySession.TryGetValue(sessionId, out target))
            {
            }
            else if (!string.IsNullOrEmpty(sessionId) && _closed.Contains(sessionId))
            {
                orphaned = true;
            }
            else
            {
                target = OnlyConnectionWithoutSession();
            }
        }

        if (target is not null && await target.TryDeliverAsync(message, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (orphaned)
        {
            LogOrphaned(message.MessageId, clientId ?? "(none)", sessionId ?? "(none)");
            _acks.Run(() => AcknowledgeQuietlyAsync(message, complete: true));
        }
        else
        {
            LogUnclaimed(message.MessageId, clientId ?? "(none)", sessionId ?? "(none)");
            Release(message);
        }
    }

    private ReplySubscription? OnlyConnectionWithoutSession()
    {
        ReplySubscription? only = null;
        foreach (var subscription in _subscriptions)
        {
            if (subscription.SessionId is null)
            {
                if (only is not null)
                {
                    return null;
                }

                only = subscription;
            }
        }

        return only;
    }

    private void RememberClosed(string id)
    {
        if (_closed.Add(id))
        {
            _closedOrder.Enqueue(id);
            if (_closedOrder.Count > ClosedIdsRemembered)
            {
                _closed.Remove(_closedOrder.Dequeue());
            }
        }
    }

    private async Task WatchLoopAsync()
    {
        try
        {
            await _loop.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ReplySubscription[] all;
            lock (_gate)
            {
                _fault = ex;
                all = [.. _subscriptions];
            }

            foreach (var subscription in all)
            {
                subscription.Fail(ex);
            }
        }
    }

    private async Task AcknowledgeQuietlyAsync(IInboundMessage message, bool complete)
    {
        try
        {
            if (complete)
            {
                await message.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await message.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAckFailed(message.MessageId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Trace, Message = "Reply {MessageId} (client {ClientId}, session {SessionId}) is for no connection of this process; handed back to the queue.")]
    private partial void LogUnclaimed(string messageId, string clientId, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reply {MessageId} (client {ClientId}, session {SessionId}) is for a connection that has closed; deleted.")]
    private partial void LogOrphaned(string messageId, string clientId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledging reply {MessageId} failed.")]
    private partial void LogAckFailed(string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ending the receive in flight on {Source} after its last connection left failed; it finishes on its own.")]
    private partial void LogInterruptFailed(string source, Exception exception);
}
