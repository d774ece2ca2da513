using System.Text.Json;

namespace AsyncMcp.Tasks;

/// <summary>
/// An <see cref="ITaskStore"/> in the memory of one process: for a single server, development and tests. Tasks do not
/// survive a restart and other processes cannot see them; use a shared store (DynamoDB) when several workers serve
/// the same clients.
/// </summary>
/// <remarks>Thread-safe. Expired tasks are absent at once and their memory is reclaimed as new tasks are created.</remarks>
public sealed class InMemoryTaskStore : ITaskStore
{
    private static readonly TimeSpan s_sweepInterval = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, TaskRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _timeProvider;
    private DateTimeOffset _nextSweep;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock for timestamps and expiry; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemoryTaskStore(TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _nextSweep = _timeProvider.GetUtcNow() + s_sweepInterval;
    }

    /// <summary>How many tasks the store holds, expired ones not yet reclaimed included.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> CreateAsync(TaskRecord record, CancellationToken cancellationToken = default)
    {
        var now = _timeProvider.GetUtcNow();
        var created = TaskRecordChanges.ForCreate(record, now);
        lock (_gate)
        {
            SweepIfDue(now);
            if (_records.TryGetValue(created.TaskId, out var existing) && !existing.IsExpiredAt(now))
            {
                return ValueTask.FromResult(TaskWriteResult.AlreadyExists);
            }

            _records[created.TaskId] = created;
        }

        return ValueTask.FromResult(TaskWriteResult.Written(created));
    }

    /// <inheritdoc />
    public ValueTask<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(Live(taskId, _timeProvider.GetUtcNow()));
        }
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> UpdateAsync(TaskRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Mutate(record.TaskId, (stored, now) => stored.Version != record.Version
            ? null
            : TaskRecordChanges.ForUpdate(stored, record, now));
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> CompleteAsync(string taskId, TaskCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return Mutate(taskId, (stored, now) => TaskRecordChanges.Complete(stored, completion, now));
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> ReportProgressAsync(string taskId, string? statusMessage, TaskRecordProgress? progress, CancellationToken cancellationToken = default) =>
        Mutate(taskId, (stored, now) => TaskRecordChanges.ReportProgress(stored, statusMessage, progress, now));

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> RequestCancelAsync(string taskId, CancellationToken cancellationToken = default) =>
        Mutate(taskId, TaskRecordChanges.RequestCancel);

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> AddInputRequestsAsync(string taskId, IReadOnlyDictionary<string, JsonElement> requests, CancellationToken cancellationToken = default)
    {
        TaskRecordChanges.ValidateInputRequests(requests);
        return Mutate(taskId, (stored, now) => TaskRecordChanges.AddInputRequests(stored, requests, now));
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> RecordInputResponsesAsync(string taskId, IReadOnlyDictionary<string, JsonElement> responses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(responses);
        return Mutate(taskId, (stored, now) => TaskRecordChanges.RecordInputResponses(stored, responses, now));
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteAsync(string taskId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var live = Live(taskId, _timeProvider.GetUtcNow()) is not null;
            if (TaskIds.IsPlausible(taskId))
            {
                _records.Remove(taskId);
            }

            return ValueTask.FromResult(live);
        }
    }

    /// <summary>Applies a change to a live, non-terminal task under the lock; a change returning <see langword="null"/> is a version conflict.</summary>
    private ValueTask<TaskWriteResult> Mutate(string taskId, Func<TaskRecord, DateTimeOffset, TaskRecord?> change)
    {
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            if (Live(taskId, now) is not { } stored)
            {
                return ValueTask.FromResult(TaskWriteResult.NotFound);
            }

            if (stored.Status.IsTerminal())
            {
                return ValueTask.FromResult(TaskWriteResult.Terminal(stored));
            }

            if (change(stored, now) is not { } next)
            {
                return ValueTask.FromResult(TaskWriteResult.Conflict(stored));
            }

            _records[taskId] = next;
            return ValueTask.FromResult(TaskWriteResult.Written(next));
        }
    }

    private TaskRecord? Live(string taskId, DateTimeOffset now) =>
        TaskIds.IsPlausible(taskId) && _records.TryGetValue(taskId, out var record) && !record.IsExpiredAt(now) ? record : null;

    private void SweepIfDue(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + s_sweepInterval;
        foreach (var expired in _records.Where(pair => pair.Value.IsExpiredAt(now)).Select(pair => pair.Key).ToList())
        {
            _records.Remove(expired);
        }
    }
}
