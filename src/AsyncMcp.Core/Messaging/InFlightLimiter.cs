namespace AsyncMcp.Messaging;

/// <summary>
/// Counts requests in flight and lets a receive loop wait until there is room for more. This is where
/// back-pressure is applied: the MCP SDK runs every request it is handed concurrently, so the only place to
/// stop taking work is before receiving it.
/// </summary>
internal sealed class InFlightLimiter
{
    private readonly object _gate = new();
    private readonly int _limit;
    private int _count;
    private TaskCompletionSource? _capacityFreed;
    private TaskCompletionSource? _drained;

    /// <summary>Creates a limiter.</summary>
    /// <param name="limit">The most requests in flight at once; at least 1.</param>
    public InFlightLimiter(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>The most requests in flight at once.</summary>
    public int Limit => _limit;

    /// <summary>The requests in flight now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Counts one more request in flight. Never blocks: the caller waited for capacity before receiving it.</summary>
    public void Acquire()
    {
        lock (_gate)
        {
            _count++;
        }
    }

    /// <summary>Counts one request as finished.</summary>
    public void Release()
    {
        TaskCompletionSource? freed;
        TaskCompletionSource? drained = null;
        lock (_gate)
        {
            if (_count == 0)
            {
                return;
            }

            _count--;
            freed = _capacityFreed;
            _capacityFreed = null;
            if (_count == 0)
            {
                drained = _drained;
                _drained = null;
            }
        }

        freed?.TrySetResult();
        drained?.TrySetResult();
    }

    /// <summary>Waits until fewer than <see cref="Limit"/> requests are in flight.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>How many more requests may be taken now (at least 1).</returns>
    public async Task<int> WaitForCapacityAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_count < _limit)
                {
                    return _limit - _count;
                }

                _capacityFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _capacityFreed.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until no request is in flight.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the count reaches zero.</returns>
    public Task WaitForDrainAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task.WaitAsync(cancellationToken);
        }
    }
}
