using System.Collections.Concurrent;

namespace AsyncMcp.Messaging;

/// <summary>
/// Work that runs in the background so that it does not hold up what started it (acknowledgements that must not
/// delay the next message, redeliveries that must not delay a request), kept track of so that shutdown can wait for
/// it before anything it uses is disposed.
/// </summary>
/// <remarks>
/// The work logs its own failures; a fault is observed here so that it never surfaces later as an unobserved task
/// exception.
/// </remarks>
internal sealed class BackgroundOperations
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly TaskCreationOptions _options;
    private volatile bool _closed;

    /// <summary>Creates a set of background operations.</summary>
    /// <param name="behindQueuedWork">
    /// Whether operations go to the thread pool's global queue, behind the work already queued on the thread that starts
    /// them (which a pool thread runs first), rather than to that thread's own queue, ahead of it. For acknowledgements:
    /// the delete of a reply must not go out before the caller the reply wakes has sent its next request.
    /// </param>
    public BackgroundOperations(bool behindQueuedWork = false) =>
        _options = TaskCreationOptions.DenyChildAttach | (behindQueuedWork ? TaskCreationOptions.PreferFairness : TaskCreationOptions.None);

    /// <summary>Starts <paramref name="operation"/> on the thread pool, also once draining has begun.</summary>
    public void Run(Func<Task> operation)
    {
        var task = Task.Factory.StartNew(operation, CancellationToken.None, _options, TaskScheduler.Default).Unwrap();
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(
            static (done, state) =>
            {
                _ = done.Exception;
                ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _);
            },
            _running,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Starts <paramref name="operation"/> on the thread pool, unless <see cref="DrainAsync"/> has begun.</summary>
    /// <returns><see langword="false"/> when it was not started.</returns>
    public bool TryRun(Func<Task> operation)
    {
        if (_closed)
        {
            return false;
        }

        Run(operation);
        return true;
    }

    /// <summary>How many operations are running.</summary>
    public int Count => _running.Count;

    /// <summary>Waits, up to <paramref name="timeout"/>, for what runs now; failures are the work's own to log.</summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        await Task.WhenAll(_running.Keys.ToArray()).WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Waits, up to <paramref name="timeout"/> or until <paramref name="cancellationToken"/> is cancelled, for what runs now.</summary>
    /// <returns><see langword="true"/> if all of it ended in time.</returns>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(_running.Keys.ToArray());
        await all.WaitAsync(timeout, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return all.IsCompleted;
    }

    /// <summary>Refuses new work from <see cref="TryRun"/>, then waits like <see cref="WaitAsync(TimeSpan)"/>.</summary>
    public Task DrainAsync(TimeSpan timeout)
    {
        _closed = true;
        return WaitAsync(timeout);
    }
}
