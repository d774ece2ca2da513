using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// A task ended <c>failed</c>: its execution ended with a JSON-RPC error, which <see cref="McpProtocolException.ErrorCode"/>
/// and <see cref="Error"/> carry. (A tool that reports an error in its result completes; it does not fail.)
/// </summary>
public sealed class McpTaskFailedException : McpProtocolException
{
    /// <summary>Initializes the exception from the failed task's state.</summary>
    /// <param name="taskId">The task's id.</param>
    /// <param name="error">The task's error.</param>
    /// <param name="statusMessage">The task's status message, if any.</param>
    public McpTaskFailedException(string taskId, JsonRpcErrorDetail error, string? statusMessage = null)
        : base(FormatMessage(taskId, error, statusMessage), (McpErrorCode)(error ?? throw new ArgumentNullException(nameof(error))).Code)
    {
        TaskId = taskId;
        Error = error;
        StatusMessage = statusMessage;
    }

    /// <summary>Gets the task's id.</summary>
    public string TaskId { get; }

    /// <summary>Gets the JSON-RPC error the task failed with.</summary>
    public JsonRpcErrorDetail Error { get; }

    /// <summary>Gets the task's status message, if the server gave one.</summary>
    public string? StatusMessage { get; }

    private static string FormatMessage(string taskId, JsonRpcErrorDetail error, string? statusMessage) =>
        $"Task '{taskId}' failed with error {error.Code}: {error.Message}" + (statusMessage is null ? "" : $" ({statusMessage})");
}
