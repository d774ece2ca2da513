using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Messaging;

/// <summary>
/// The one receive loop every queue-backed transport uses: waits for capacity, long-polls the source, hands
/// each message to a handler in arrival order, backs off with jitter when the broker fails, and stops promptly
/// when asked: a long poll in flight is ended through the source when it is an <see cref="IInterruptibleMessageSource"/>
/// (a bounded wait, usually a broker round trip), else cancelled; never waited out.
/// </summary>
internal sealed partial class ReceiveLoop : IAsyncDisposable
{
    private static readonly TimeSpan s_minBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_interruptWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_handBackWait = TimeSpan.FromSeconds(5);

    private readonly IMessageSource _source;
    private readonly Func<IInboundMessage, CancellationToken, Task> _handler;
    private readonly int _batchSize;
    private readonly InFlightLimiter? _limiter;
    private readonly Func<Exception, bool>? _isFatal;
    private readonly Func<CancellationToken, Task>? _waitToReceive;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Exception? _lastError;
    private int _consecutiveFailures;
    private int _stopRequested;
    private int _disposed;

    /// <summary>Creates a loop; call <see cref="Start"/> to run it.</summary>
    /// <param name="source">Where messages come from.</param>
    /// <param name="handler">Handles one message. It should return quickly (hand the work on); the loop awaits it before the next message to keep order.</param>
    /// <param name="batchSize">The most messages to ask for at once.</param>
    /// <param name="limiter">When set, the loop receives only while the limiter has capacity, and never more than that capacity.</param>
    /// <param name="isFatal">When set and it returns <see langword="true"/> for a receive error, the loop ends and <see cref="Completion"/> faults with that error.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="waitToReceive">When set, awaited before each receive: the loop does not poll until it completes (a poll already in flight is left to finish).</param>
    public ReceiveLoop(
        IMessageSource source,
        Func<IInboundMessage, CancellationToken, Task> handler,
        int batchSize,
        InFlightLimiter? limiter = null,
        Func<Exception, bool>? isFatal = null,
        ILogger? logger = null,
        Func<CancellationToken, Task>? waitToReceive = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _source = source;
        _handler = handler;
        _batchSize = batchSize;
        _limiter = limiter;
        _isFatal = isFatal;
        _waitToReceive = waitToReceive;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Completes when the loop has ended; faults if a fatal receive error ended it.</summary>
    public Task Completion => _loop ?? Task.CompletedTask;

    /// <summary>The source's description (a queue URL), for health reports.</summary>
    public string Description => _source.Description;

    /// <summary>Whether the loop has started and neither ended nor been asked to stop.</summary>
    public bool IsRunning => _loop is { IsCompleted: false } && Volatile.Read(ref _stopRequested) == 0;

    /// <summary>Receives that failed in a row; 0 once one succeeds.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>The last receive error, while <see cref="ConsecutiveFailures"/> is above 0.</summary>
    public Exception? LastError => ConsecutiveFailures > 0 ? Volatile.Read(ref _lastError) : null;

    /// <summary>Starts receiving.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_loop is not null)
        {
            throw new InvalidOperationException("The receive loop is already running.");
        }

        _loop = Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>
    /// Stops receiving: ends a long poll in flight (cleanly through an <see cref="IInterruptibleMessageSource"/>, handing
    /// back what it took; else by cancelling it) and waits for the loop to end (not for handed-on work).
    /// </summary>
    /// <returns>A task that completes when the loop has ended.</returns>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0 &&
            _loop is { IsCompleted: false } &&
            _source is IInterruptibleMessageSource interruptible)
        {
            // A poll abandoned by cancellation may still be served by the broker and take a message nobody then reads
            // (it stays invisible for its visibility timeout): end it, briefly waiting, and cancel only what remains.
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

        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Already logged and reported through Completion; stopping never throws.
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        LogStarted(_source.Description);
        while (!cancellationToken.IsCancellationRequested && Volatile.Read(ref _stopRequested) == 0)
        {
            IReadOnlyList<IInboundMessage> messages;
            try
            {
                if (_waitToReceive is not null)
                {
                    await _waitToReceive(cancellationToken).ConfigureAwait(false);
                }

                var capacity = _limiter is null ? _batchSize : await _limiter.WaitForCapacityAsync(cancellationToken).ConfigureAwait(false);
                messages = await _source.ReceiveAsync(Math.Min(_batchSize, capacity), cancellationToken).ConfigureAwait(false);
                failures = 0;
                Volatile.Write(ref _consecutiveFailures, 0);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (_isFatal?.Invoke(ex) == true)
                {
                    LogFatalReceiveError(_source.Description, ex);
                    throw;
                }

                failures++;
                Volatile.Write(ref _lastError, ex);
                Volatile.Write(ref _consecutiveFailures, failures);
                var delay = Backoff(failures);
                LogReceiveError(_source.Description, failures, delay.TotalMilliseconds, ex);
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (Volatile.Read(ref _stopRequested) != 0)
            {
                // Taken by the poll that stopping ended: nobody here will handle them, so they go back at once.
                await HandBackAsync(messages).ConfigureAwait(false);
                break;
            }

            foreach (var message in messages)
            {
                try
                {
                    await _handler(message, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopping: the message stays on the broker and becomes visible again when its lease ends.
                }
                catch (Exception ex)
                {
                    // A handler bug must not end the loop or lose other messages; this one is left to the broker's redelivery.
                    LogHandlerError(message.MessageId, ex);
                }
            }

            if (messages.Count > 0)
            {
                // The handlers hand their work on to the thread pool (the MCP SDK yields before it handles each message, and a
                // reply completes its caller asynchronously): that work sits in this thread's own queue. Polling again at
                // once would make it wait for the next receive request to be built, signed and sent (about 50 µs at
                // concurrency 1, on the critical path of every call). Task.Yield queues the rest of this loop to the pool's
                // global queue, which a thread takes only after its own queue: the handed-on work starts first, and the
                // poll follows on this thread or another.
                await Task.Yield();
            }
        }

        LogStopped(_source.Description);
    }

    private async Task HandBackAsync(IReadOnlyList<IInboundMessage> messages)
    {
        using var wait = new CancellationTokenSource(s_handBackWait);
        await Task.WhenAll(messages.Select(async message =>
        {
            try
            {
                await message.ReleaseAsync(wait.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogHandBackFailed(message.MessageId, ex);
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Exponential backoff with full jitter, from 100 ms up to 10 s.</summary>
    internal static TimeSpan Backoff(int failures)
    {
        var ceiling = Math.Min(s_maxBackoff.TotalMilliseconds, s_minBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)));
        return TimeSpan.FromMilliseconds(s_minBackoff.TotalMilliseconds + (Random.Shared.NextDouble() * (ceiling - s_minBackoff.TotalMilliseconds)));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Receiving from {Source}.")]
    private partial void LogStarted(string source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stopped receiving from {Source}.")]
    private partial void LogStopped(string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from {Source} failed ({Failures} in a row); trying again in {DelayMs:F0} ms.")]
    private partial void LogReceiveError(string source, int failures, double delayMs, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Receiving from {Source} failed and cannot recover; the receive loop ends.")]
    private partial void LogFatalReceiveError(string source, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ending the receive in flight on {Source} failed; it is cancelled instead.")]
    private partial void LogInterruptFailed(string source, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handing message {MessageId} back at stop failed; it becomes visible again when its lease ends.")]
    private partial void LogHandBackFailed(string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling message {MessageId} failed; it is left for the broker to deliver again.")]
    private partial void LogHandlerError(string messageId, Exception exception);
}
