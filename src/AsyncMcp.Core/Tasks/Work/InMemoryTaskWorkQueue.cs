using System.Diagnostics.CodeAnalysis;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;

namespace AsyncMcp.Tasks;

/// <summary>
/// A <see cref="ITaskWorkQueue"/> in the memory of one process: tasks run in the process that created them and are lost
/// with it. For development, tests and single-process servers; use a durable queue (<c>SqsTaskWorkQueue</c>) when
/// another worker must take a task over.
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "It is a queue: an SQS queue in production.")]
public sealed class InMemoryTaskWorkQueue : ITaskWorkQueue
{
    private readonly Channel<TaskWorkItem> _items = Channel.CreateUnbounded<TaskWorkItem>();
    private readonly ConcurrentDictionary<string, TaskWorkItem> _leased = new(StringComparer.Ordinal);
    private long _receipts;

    /// <inheritdoc/>
    public ValueTask EnqueueAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        _items.Writer.TryWrite(new TaskWorkItem(taskId, 0, string.Empty));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TaskWorkItem>> ReceiveAsync(int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        var received = new List<TaskWorkItem>();
        if (!await _items.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return received;
        }

        while (received.Count < maxItems && _items.Reader.TryRead(out var item))
        {
            var leased = item with
            {
                DeliveryCount = item.DeliveryCount + 1,
                Receipt = Interlocked.Increment(ref _receipts).ToString(CultureInfo.InvariantCulture),
            };
            _leased[leased.Receipt] = leased;
            received.Add(leased);
        }

        return received;
    }

    /// <inheritdoc/>
    /// <remarks>Leases in one process do not run out: the process that holds them is the only one.</remarks>
    public ValueTask RenewAsync(TaskWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <inheritdoc/>
    public ValueTask CompleteAsync(TaskWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        _leased.TryRemove(item.Receipt, out _);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(TaskWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (_leased.TryRemove(item.Receipt, out var leased))
        {
            _items.Writer.TryWrite(leased);
        }

        return ValueTask.CompletedTask;
    }
}
