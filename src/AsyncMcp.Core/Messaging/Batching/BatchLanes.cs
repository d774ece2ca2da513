using System.Collections.Concurrent;

namespace AsyncMcp.Messaging.Batching;

/// <summary>
/// The <see cref="BatchLane{TEntry}"/>s of one kind of operation, one per destination (a queue URL, a topic ARN):
/// made on first use and kept while used, so that a destination used call after call keeps its lane; a lane idle for
/// <see cref="IdleLifetime"/> is dropped (a client's reply queue that is no longer used), looked for at most once per
/// <see cref="IdleLifetime"/>.
/// </summary>
/// <typeparam name="TEntry">One operation.</typeparam>
internal sealed class BatchLanes<TEntry>
{
    /// <summary>How long a lane with nothing waiting and nothing in flight is kept.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, BatchLane<TEntry>> _lanes = new(StringComparer.Ordinal);
    private readonly Func<string, IReadOnlyList<BatchLane<TEntry>.Pending>, Task> _sendBatch;
    private readonly Func<TEntry, int> _size;
    private readonly BatchLimits _limits;
    private readonly TimeProvider _time;
    private long _lastSweep;

    /// <summary>Creates the lanes.</summary>
    /// <param name="sendBatch">Sends one batch to a destination (see <see cref="BatchLane{TEntry}"/>).</param>
    /// <param name="size">The bytes an entry counts against the limits' bytes.</param>
    /// <param name="limits">How large a batch may be and how many may be in flight at once to one destination.</param>
    /// <param name="time">The clock that ages idle lanes; the system clock when <see langword="null"/>.</param>
    public BatchLanes(Func<string, IReadOnlyList<BatchLane<TEntry>.Pending>, Task> sendBatch, Func<TEntry, int> size, BatchLimits limits, TimeProvider? time = null)
    {
        _sendBatch = sendBatch;
        _size = size;
        _limits = limits;
        _time = time ?? TimeProvider.System;
        _lastSweep = _time.GetTimestamp();
    }

    /// <summary>How many destinations have a lane.</summary>
    internal int Count => _lanes.Count;

    /// <summary>Queues an operation for a destination (see <see cref="BatchLane{TEntry}.SubmitAsync"/>).</summary>
    public Task SubmitAsync(string destination, TEntry entry, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        var lane = _lanes.TryGetValue(destination, out var existing)
            ? existing
            : _lanes.GetOrAdd(destination, static (key, lanes) => new BatchLane<TEntry>(batch => lanes._sendBatch(key, batch), lanes._size, lanes._limits), this);
        lane.LastUsed = now;
        var submitted = lane.SubmitAsync(entry, cancellationToken);
        SweepIfDue(now);
        return submitted;
    }

    /// <summary>How many operations wait for a batch, all destinations together (not those in flight).</summary>
    internal int TotalWaitingCount => _lanes.Values.Sum(static lane => lane.WaitingCount);

    /// <summary>How many operations for a destination wait for a batch (not those in flight).</summary>
    public int WaitingCount(string destination) => _lanes.TryGetValue(destination, out var lane) ? lane.WaitingCount : 0;

    private void SweepIfDue(long now)
    {
        var last = Volatile.Read(ref _lastSweep);
        if (_time.GetElapsedTime(last, now) < IdleLifetime || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return;
        }

        foreach (var (destination, lane) in _lanes)
        {
            // A caller that took this lane just before it is dropped still has a lane that works on its own; only the
            // sharing with later callers is lost.
            if (lane.IsIdle && _time.GetElapsedTime(lane.LastUsed, now) >= IdleLifetime)
            {
                _lanes.TryRemove(new KeyValuePair<string, BatchLane<TEntry>>(destination, lane));
            }
        }
    }
}
