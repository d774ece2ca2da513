namespace AsyncMcp.Tasks;

/// <summary>
/// The result a server gives in place of a <c>CallToolResult</c> when it runs the call as a task:
/// <c>{"resultType":"task","taskId":…,"status":…,"createdAt":…,"lastUpdatedAt":…,"ttlMs":…}</c>, flat.
/// </summary>
/// <remarks>
/// A server returns it only to a request that declared the extension, and only once the task is durably created
/// (a <c>tasks/get</c> for its id resolves).
/// </remarks>
public sealed class CreateTaskResult : McpTask
{
    /// <summary>Initializes a task handle with <c>resultType</c> set to <c>task</c>.</summary>
    public CreateTaskResult() => ResultType = McpTasks.TaskResultType;
}
