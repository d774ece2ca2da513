using System.Diagnostics.CodeAnalysis;

namespace AsyncMcp.Tasks;

/// <summary>
/// Where the work of tasks waits for a worker: one item per task, leased to one worker at a time while it runs. A worker
/// that dies stops renewing its lease, the item becomes visible again and another worker runs the task again.
/// </summary>
/// <remarks>
/// Delivery is at least once: an item may be received again while (or after) another worker ran it. The runtime copes
/// with that: it records a task's end once (the first end wins) and skips items of tasks that already ended.
/// </remarks>
[SuppressMessage("Naming", "CA1711", Justification = "It is a queue: an SQS queue in production.")]
public interface ITaskWorkQueue
{
    /// <summary>Queues the work of a task. Called once the task is stored.</summary>
    /// <param name="taskId">The task's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the item is queued durably.</returns>
    ValueTask EnqueueAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for work and leases up to <paramref name="maxItems"/> items for <paramref name="leaseDuration"/>. May return
    /// no item when nothing arrived within the queue's own wait time.
    /// </summary>
    /// <param name="maxItems">The most items to lease, at least 1.</param>
    /// <param name="leaseDuration">How long the items stay invisible to other workers unless renewed.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The leased items.</returns>
    ValueTask<IReadOnlyList<TaskWorkItem>> ReceiveAsync(int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Extends an item's lease to <paramref name="leaseDuration"/> from now.</summary>
    /// <param name="item">A leased item.</param>
    /// <param name="leaseDuration">The new lease, counted from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the lease is extended.</returns>
    ValueTask RenewAsync(TaskWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Removes an item whose task ended (or needs no more work).</summary>
    /// <param name="item">A leased item.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the item is removed.</returns>
    ValueTask CompleteAsync(TaskWorkItem item, CancellationToken cancellationToken = default);

    /// <summary>Ends an item's lease at once, so that another worker takes the task over (used when a worker stops).</summary>
    /// <param name="item">A leased item.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the item is visible again.</returns>
    ValueTask ReleaseAsync(TaskWorkItem item, CancellationToken cancellationToken = default);
}

/// <summary>One leased item of a <see cref="ITaskWorkQueue"/>.</summary>
/// <param name="TaskId">The task to run.</param>
/// <param name="DeliveryCount">How many times the item was delivered, this time included (1 the first time).</param>
/// <param name="Receipt">The queue's own handle of this lease; opaque to the runtime.</param>
public sealed record TaskWorkItem(string TaskId, int DeliveryCount, string Receipt);
