using System.Collections.Concurrent;

namespace AsyncMcp.AspNetCore.Hybrid;

/// <summary>
/// Work started in the background (redeliveries, last attempts at expiry) so that it does not hold up the request
/// that triggered it, kept track of so that disposal can wait for it before anything it uses is disposed.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private volatile bool _closed;

    /// <summary>Starts <paramref name="work"/> on the thread pool, unless draining has begun.</summary>
    /// <returns><see langword="false"/> when it was not started.</returns>
    public bool TryRun(Func<Task> work)
    {
        if (_closed)
        {
            return false;
        }

        var task = Task.Run(work);
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(
            static (done, state) =>
            {
                // Observed here: the work logs its own failures, and an unobserved one must not surface later.
                _ = done.Exception;
                ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _);
            },
            _running,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    /// <summary>Refuses new work and waits for what runs (its failures are the work's own to log).</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        _closed = true;
        await Task.WhenAll(_running.Keys.ToArray()).WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
