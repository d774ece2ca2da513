namespace AsyncMcp.Tasks;

/// <summary>What became of a write to an <see cref="ITaskStore"/>.</summary>
public enum TaskWriteOutcome
{
    /// <summary>The write was applied; the result holds the record as stored.</summary>
    Written,

    /// <summary>No such task: it never existed, was deleted or has expired.</summary>
    NotFound,

    /// <summary>A task with that id already exists (create only).</summary>
    AlreadyExists,

    /// <summary>The record changed since it was read (its version differs); the result holds the current record to retry from.</summary>
    VersionConflict,

    /// <summary>The task is already terminal and never changes again; the result holds it, with the result or error recorded first.</summary>
    Terminal,
}

/// <summary>The outcome of a write to an <see cref="ITaskStore"/> and the record it concerns.</summary>
/// <param name="Outcome">What became of the write.</param>
/// <param name="Record">The record as stored after the write (<see cref="TaskWriteOutcome.Written"/>), the current record
/// (<see cref="TaskWriteOutcome.VersionConflict"/>, <see cref="TaskWriteOutcome.Terminal"/>), or <see langword="null"/>.</param>
public sealed record TaskWriteResult(TaskWriteOutcome Outcome, TaskRecord? Record)
{
    /// <summary>Whether the write was applied.</summary>
    public bool Succeeded => Outcome == TaskWriteOutcome.Written;

    internal static TaskWriteResult Written(TaskRecord record) => new(TaskWriteOutcome.Written, record);

    internal static TaskWriteResult NotFound { get; } = new(TaskWriteOutcome.NotFound, null);

    internal static TaskWriteResult AlreadyExists { get; } = new(TaskWriteOutcome.AlreadyExists, null);

    internal static TaskWriteResult Conflict(TaskRecord current) => new(TaskWriteOutcome.VersionConflict, current);

    internal static TaskWriteResult Terminal(TaskRecord current) => new(TaskWriteOutcome.Terminal, current);
}
