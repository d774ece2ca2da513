using System.Collections.Immutable;
using System.Text.Json;

namespace AsyncMcp.Tasks;

/// <summary>
/// The rules of a task's life, written once for every store: what a new task may be, and how each operation changes a
/// stored record. Each change returns the next record (version and update time stamped), or the same instance when
/// nothing changes. Stores check existence, expiry, terminal status and version first, and make the write atomic.
/// </summary>
internal static class TaskRecordChanges
{
    public static TaskRecord ForCreate(TaskRecord record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!TaskIds.IsPlausible(record.TaskId))
        {
            throw new ArgumentException($"TaskRecord.TaskId must be 1 to {TaskIds.MaxLength} characters.", nameof(record));
        }

        if (record.Status.IsTerminal())
        {
            throw new ArgumentException($"A new task must be working or input_required (was {record.Status.ToWireValue()}).", nameof(record));
        }

        var created = record with { CreatedAt = now, LastUpdatedAt = now, Version = 1 };
        Validate(created);
        return created;
    }

    /// <summary>The stored record as <paramref name="proposed"/> changes it; the fields fixed at creation stay as stored.</summary>
    public static TaskRecord ForUpdate(TaskRecord stored, TaskRecord proposed, DateTimeOffset now)
    {
        var next = Next(proposed, now) with
        {
            TaskId = stored.TaskId,
            OwnerId = stored.OwnerId,
            CreatedAt = stored.CreatedAt,
            ToolCall = stored.ToolCall,
        };
        Validate(next);
        return next;
    }

    /// <summary>The record <paramref name="proposed"/> becomes when written, for a store that keeps the creation fields itself.</summary>
    public static TaskRecord Next(TaskRecord proposed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        var next = proposed with { Version = proposed.Version + 1, LastUpdatedAt = now };
        if (next.Status.IsTerminal() && next.InputRequests.Count > 0)
        {
            next = next with { InputRequests = ImmutableDictionary<string, JsonElement>.Empty };
        }

        Validate(next);
        return next;
    }

    public static TaskRecord Complete(TaskRecord stored, TaskCompletion completion, DateTimeOffset now) => stored with
    {
        Status = completion.Status,
        Result = completion.Result,
        Error = completion.Error,
        StatusMessage = completion.StatusMessage,
        InputRequests = ImmutableDictionary<string, JsonElement>.Empty,
        Version = stored.Version + 1,
        LastUpdatedAt = now,
    };

    public static TaskRecord ReportProgress(TaskRecord stored, string? statusMessage, TaskRecordProgress? progress, DateTimeOffset now)
    {
        if (statusMessage is null && progress is null)
        {
            return stored;
        }

        if (progress is not null)
        {
            ValidateProgress(progress);
        }

        return stored with
        {
            StatusMessage = statusMessage ?? stored.StatusMessage,
            Progress = progress ?? stored.Progress,
            Version = stored.Version + 1,
            LastUpdatedAt = now,
        };
    }

    public static TaskRecord RequestCancel(TaskRecord stored, DateTimeOffset now) =>
        stored.CancelRequested ? stored : stored with { CancelRequested = true, Version = stored.Version + 1, LastUpdatedAt = now };

    public static void ValidateInputRequests(IReadOnlyDictionary<string, JsonElement> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            throw new ArgumentException("At least one input request is needed.", nameof(requests));
        }

        foreach (var (key, request) in requests)
        {
            if (string.IsNullOrEmpty(key) || request.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"Input request '{key}' must have a non-empty key and be a JSON object (was {request.ValueKind}).", nameof(requests));
            }
        }
    }

    public static TaskRecord AddInputRequests(TaskRecord stored, IReadOnlyDictionary<string, JsonElement> requests, DateTimeOffset now)
    {
        ValidateInputRequests(requests);
        var outstanding = stored.InputRequests.ToImmutableDictionary(StringComparer.Ordinal);
        var added = false;
        foreach (var (key, request) in requests)
        {
            if (stored.InputRequests.TryGetValue(key, out var existing))
            {
                // The same request again comes from a task run again after a worker died: it is already recorded.
                if (!JsonElement.DeepEquals(existing, request))
                {
                    throw new ArgumentException($"Input request key '{key}' is already used for a different request; keys are never reused.", nameof(requests));
                }

                continue;
            }

            if (stored.InputResponses.ContainsKey(key))
            {
                // Answered before this run: the re-run takes the recorded answer instead of asking again.
                continue;
            }

            outstanding = outstanding.SetItem(key, request);
            added = true;
        }

        if (!added && (outstanding.Count == 0 || stored.Status == TaskRecordStatus.InputRequired))
        {
            return stored;
        }

        return stored with
        {
            InputRequests = outstanding,
            Status = outstanding.Count > 0 ? TaskRecordStatus.InputRequired : stored.Status,
            Version = stored.Version + 1,
            LastUpdatedAt = now,
        };
    }

    public static TaskRecord RecordInputResponses(TaskRecord stored, IReadOnlyDictionary<string, JsonElement> responses, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(responses);
        var outstanding = stored.InputRequests.ToImmutableDictionary(StringComparer.Ordinal);
        var answered = stored.InputResponses.ToImmutableDictionary(StringComparer.Ordinal);
        foreach (var (key, response) in responses)
        {
            if (outstanding.ContainsKey(key))
            {
                outstanding = outstanding.Remove(key);
                answered = answered.SetItem(key, response);
            }
        }

        if (outstanding.Count == stored.InputRequests.Count)
        {
            return stored;
        }

        return stored with
        {
            InputRequests = outstanding,
            InputResponses = answered,
            Status = outstanding.Count == 0 && stored.Status == TaskRecordStatus.InputRequired ? TaskRecordStatus.Working : stored.Status,
            Version = stored.Version + 1,
            LastUpdatedAt = now,
        };
    }

    /// <summary>Checks the rules every stored record keeps.</summary>
    public static void Validate(TaskRecord record)
    {
        const string Name = "record";
        if (!Enum.IsDefined(record.Status))
        {
            throw new ArgumentException($"TaskRecord.Status {(int)record.Status} is not a task status.", Name);
        }

        if (record.ToolCall is null || string.IsNullOrEmpty(record.ToolCall.Name))
        {
            throw new ArgumentException("TaskRecord.ToolCall must name the tool.", Name);
        }

        if (record.TtlMs is <= 0)
        {
            throw new ArgumentException($"TaskRecord.TtlMs must be positive or null for no expiry (was {record.TtlMs}).", Name);
        }

        if (record.PollIntervalMs is <= 0)
        {
            throw new ArgumentException($"TaskRecord.PollIntervalMs must be positive or null (was {record.PollIntervalMs}).", Name);
        }

        if (record.Progress is not null)
        {
            ValidateProgress(record.Progress);
        }

        var status = record.Status.ToWireValue();
        if ((record.Status == TaskRecordStatus.Completed) != (record.Result is not null))
        {
            throw new ArgumentException($"TaskRecord.Result is set exactly when the task is completed (status {status}, result {(record.Result is null ? "absent" : "present")}).", Name);
        }

        if ((record.Status == TaskRecordStatus.Failed) != (record.Error is not null))
        {
            throw new ArgumentException($"TaskRecord.Error is set exactly when the task failed (status {status}, error {(record.Error is null ? "absent" : "present")}).", Name);
        }

        if (record.Result is { ValueKind: not JsonValueKind.Object } || record.Error is { ValueKind: not JsonValueKind.Object })
        {
            throw new ArgumentException("TaskRecord.Result and TaskRecord.Error must be JSON objects.", Name);
        }

        if (!record.Status.IsTerminal() && (record.Status == TaskRecordStatus.InputRequired) != (record.InputRequests.Count > 0))
        {
            throw new ArgumentException($"TaskRecord.InputRequests is non-empty exactly when the task is input_required (status {status}, {record.InputRequests.Count} requests).", Name);
        }

        if (record.InputRequests.Count > 0)
        {
            ValidateInputRequests(record.InputRequests);
        }

        foreach (var key in record.InputRequests.Keys)
        {
            if (record.InputResponses.ContainsKey(key))
            {
                throw new ArgumentException($"Input request '{key}' is both outstanding and answered.", Name);
            }
        }
    }

    private static void ValidateProgress(TaskRecordProgress progress)
    {
        if (!double.IsFinite(progress.Progress) || progress.Total is { } total && !double.IsFinite(total))
        {
            throw new ArgumentException("TaskRecordProgress values must be finite numbers.", nameof(progress));
        }
    }
}
