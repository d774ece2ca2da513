using System.Text.Json;

namespace AsyncMcp.Tasks;

/// <summary>How a task ended: a terminal status with its result or error, recorded once by <see cref="ITaskStore.CompleteAsync"/>.</summary>
public sealed record TaskCompletion
{
    private TaskCompletion(TaskRecordStatus status, JsonElement? result, JsonElement? error, string? statusMessage)
    {
        Status = status;
        Result = result;
        Error = error;
        StatusMessage = statusMessage;
    }

    /// <summary>The terminal status.</summary>
    public TaskRecordStatus Status { get; }

    /// <summary>The tool's result, for <see cref="TaskRecordStatus.Completed"/>.</summary>
    public JsonElement? Result { get; }

    /// <summary>The JSON-RPC error object, for <see cref="TaskRecordStatus.Failed"/>.</summary>
    public JsonElement? Error { get; }

    /// <summary>The final status message, or <see langword="null"/> to clear it.</summary>
    public string? StatusMessage { get; }

    /// <summary>The tool returned a result (also one with <c>isError: true</c>).</summary>
    /// <param name="result">The <c>CallToolResult</c> object.</param>
    /// <param name="statusMessage">The final status message.</param>
    /// <returns>The completion.</returns>
    public static TaskCompletion Completed(JsonElement result, string? statusMessage = null) =>
        new(TaskRecordStatus.Completed, RequireObject(result, nameof(result)), null, statusMessage);

    /// <summary>The task ended with a JSON-RPC error.</summary>
    /// <param name="error">The error object, <c>{code, message, data?}</c>.</param>
    /// <param name="statusMessage">The final status message.</param>
    /// <returns>The completion.</returns>
    public static TaskCompletion Failed(JsonElement error, string? statusMessage = null) =>
        new(TaskRecordStatus.Failed, null, RequireObject(error, nameof(error)), statusMessage);

    /// <summary>The task was cancelled.</summary>
    /// <param name="statusMessage">The final status message.</param>
    /// <returns>The completion.</returns>
    public static TaskCompletion Cancelled(string? statusMessage = null) => new(TaskRecordStatus.Cancelled, null, null, statusMessage);

    private static JsonElement RequireObject(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new ArgumentException($"The {name} must be a JSON object (was {value.ValueKind}).", name);
}
