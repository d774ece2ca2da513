using Microsoft.Extensions.Logging;

namespace AsyncMcp.Server;

/// <summary>Closes sessions that have been idle too long (and have nothing in flight), and forgets expired answers.</summary>
internal sealed partial class SessionMaintenance(
    SessionTable sessions,
    AnswerCache answers,
    TimeSpan idleTimeout,
    TimeProvider time,
    Func<ServerSession, Task> expire,
    ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private int _disposed;

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stopping.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var period = idleTimeout / 4 < TimeSpan.FromSeconds(1) ? idleTimeout / 4 : TimeSpan.FromSeconds(1);
        using var timer = new PeriodicTimer(period < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var cutoff = time.GetUtcNow() - idleTimeout;
                    foreach (var session in sessions.All)
                    {
                        if (session.LastActivity < cutoff && !session.HasRequestsInFlight)
                        {
                            await expire(session).ConfigureAwait(false);
                        }
                    }

                    answers.RemoveExpired();
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    // One bad tick must not end expiry for good.
                    LogFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Session expiry failed on this tick; it runs again on the next.")]
    private partial void LogFailed(Exception exception);
}
