using System.Collections.Concurrent;

namespace AsyncMcp.Messaging;

/// <summary>
/// Broker calls that run in the background (acknowledgements, mostly) so that they do not delay the next
/// message, kept track of so that shutdown can wait for them.
/// </summary>
internal sealed class BackgroundOperations
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    public void Run(Func<Task> operation)
    {
        var task = Task.Run(operation);
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public async Task WaitAsync(TimeSpan timeout)
    {
        var all = Task.WhenAll(_running.Keys.ToArray());
        await all.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
