using System.Collections.Concurrent;

namespace AsyncMcp.Tasks;

/// <summary>
/// Wakes a task running in this process when a <c>tasks/update</c> or <c>tasks/cancel</c> for it arrives here, so that it
/// reacts at once instead of at its next read of the store (which it keeps doing for requests that reach other workers).
/// </summary>
internal sealed class TaskSignals
{
    private readonly ConcurrentDictionary<string, TaskSignal> _signals = new(StringComparer.Ordinal);

    public TaskSignal Register(string taskId) => _signals.GetOrAdd(taskId, static _ => new TaskSignal());

    public void Unregister(string taskId) => _signals.TryRemove(taskId, out _);

    public void Pulse(string taskId)
    {
        if (_signals.TryGetValue(taskId, out var signal))
        {
            signal.Pulse();
        }
    }
}

/// <summary>A pulse that wakes every waiter at once.</summary>
internal sealed class TaskSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for the next pulse or <paramref name="timeout"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pulse = Volatile.Read(ref _next).Task;
        var delay = Task.Delay(timeout, cancellationToken);
        await Task.WhenAny(pulse, delay).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }
}
