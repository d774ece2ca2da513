namespace AsyncMcp.Tasks;

/// <summary>A task ended <c>cancelled</c> (by <c>tasks/cancel</c> from any client, or by the server).</summary>
/// <remarks>
/// Not an <see cref="OperationCanceledException"/>: the wait was not cancelled, the task was, and callers usually handle
/// the two differently.
/// </remarks>
public sealed class McpTaskCancelledException : Exception
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="taskId">The task's id.</param>
    /// <param name="statusMessage">The task's status message, if any.</param>
    public McpTaskCancelledException(string taskId, string? statusMessage = null)
        : base($"Task '{taskId}' was cancelled" + (statusMessage is null ? "." : $": {statusMessage}"))
    {
        TaskId = taskId;
        StatusMessage = statusMessage;
    }

    /// <summary>Gets the task's id.</summary>
    public string TaskId { get; }

    /// <summary>Gets the task's status message, if the server gave one.</summary>
    public string? StatusMessage { get; }
}
