namespace AsyncMcp.Tasks;

/// <summary>
/// A task record is too large for its store (a DynamoDB item holds at most 400 KB): the write was refused and nothing
/// changed. Retrying does not help; record a smaller result, or fail the task with an error saying why.
/// </summary>
public sealed class TaskRecordTooLargeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskRecordTooLargeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public TaskRecordTooLargeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TaskRecordTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a record of a known size.</summary>
    /// <param name="taskId">The task.</param>
    /// <param name="sizeBytes">The record's size as the store counts it.</param>
    /// <param name="limitBytes">The store's limit.</param>
    public TaskRecordTooLargeException(string taskId, long sizeBytes, long limitBytes)
        : base($"The record of task {taskId} would be {sizeBytes} bytes, more than the store's limit of {limitBytes} bytes.")
    {
        TaskId = taskId;
        SizeBytes = sizeBytes;
        LimitBytes = limitBytes;
    }

    /// <summary>The task whose record was too large, when known.</summary>
    public string? TaskId { get; }

    /// <summary>The record's size in bytes as the store counts it, when known.</summary>
    public long? SizeBytes { get; }

    /// <summary>The store's limit in bytes, when known.</summary>
    public long? LimitBytes { get; }
}
