using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Messaging;

/// <summary>
/// The one receive loop every queue-backed transport uses: waits for capacity, long-polls the source, hands
/// each message to a handler in arrival order, backs off with jitter when the broker fails, and stops at once
/// when asked (a long poll in flight is cancelled, not waited out).
/// </summary>
internal sealed partial class ReceiveLoop : IAsyncDisposable
{
    private static readonly TimeSpan s_minBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(10);

    private readonly IMessageSource _source;
    private readonly Func<IInboundMessage, CancellationToken, Task> _handler;
    private readonly int _batchSize;
    private readonly InFlightLimiter? _limiter;
    private readonly Func<Exception, bool>? _isFatal;
    private readonly Func<CancellationToken, Task>? _waitToReceive;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
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

    /// <summary>Stops receiving: cancels any long poll in flight and waits for the loop to end (not for handed-on work).</summary>
    /// <returns>A task that completes when the loop has ended.</returns>
    public async Task StopAsync()
    {
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
        while (!cancellationToken.IsCancellationRequested)
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
        }

        LogStopped(_source.Description);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling message {MessageId} failed; it is left for the broker to deliver again.")]
    private partial void LogHandlerError(string messageId, Exception exception);
}
