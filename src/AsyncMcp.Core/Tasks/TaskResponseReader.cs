using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// Turns the results of the extension's methods into types, refusing anything the extension does not allow with an
/// <see cref="McpException"/> that says what was wrong, so that a malformed answer fails the call instead of being
/// polled forever.
/// </summary>
internal static class TaskResponseReader
{
    private static readonly JsonTypeInfo<CallToolResult> s_callToolResult =
        (JsonTypeInfo<CallToolResult>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult));

    public static ToolCallOrTask ReadToolCall(string toolName, JsonNode? result)
    {
        if (result is not JsonObject body)
        {
            throw Malformed($"tools/call '{toolName}'", "the result is not a JSON object", null);
        }

        var resultType = ReadResultType(body, $"tools/call '{toolName}'");
        if (resultType == McpTasks.TaskResultType)
        {
            var task = Deserialize(body, McpTasksJsonContext.Default.CreateTaskResult, $"tools/call '{toolName}'");
            RequireTaskId(task.TaskId, $"tools/call '{toolName}'");
            if (body.ContainsKey("result") || body.ContainsKey("error") || body.ContainsKey("inputRequests"))
            {
                throw Malformed($"tools/call '{toolName}'", "a task handle must not carry 'result', 'error' or 'inputRequests'", null);
            }

            return ToolCallOrTask.ForTask(task);
        }

        if (resultType is not null && resultType != McpTasks.CompleteResultType)
        {
            throw Malformed($"tools/call '{toolName}'", $"unexpected resultType '{resultType}'", null);
        }

        return ToolCallOrTask.Immediate(Deserialize(body, s_callToolResult, $"tools/call '{toolName}'"));
    }

    public static DetailedTask ReadTask(string taskId, JsonNode? result)
    {
        var what = $"tasks/get for task '{taskId}'";
        if (result is not JsonObject body)
        {
            throw Malformed(what, "the result is not a JSON object", null);
        }

        RequireComplete(body, what);
        var task = Deserialize(body, McpTasksJsonContext.Default.DetailedTask, what);
        if (!string.Equals(task.TaskId, taskId, StringComparison.Ordinal))
        {
            throw Malformed(what, $"it describes task '{task.TaskId}' instead", null);
        }

        var problem = task.Status switch
        {
            McpTaskStatus.InputRequired when task.InputRequests is null => "an input_required task must carry 'inputRequests'",
            McpTaskStatus.Completed when task.Result is null => "a completed task must carry 'result'",
            McpTaskStatus.Failed when task.Error is null => "a failed task must carry 'error'",
            _ => null,
        };
        return problem is null ? task : throw Malformed(what, problem, null);
    }

    public static void ReadAcknowledgement(string method, string taskId, JsonNode? result)
    {
        var what = $"{method} for task '{taskId}'";
        if (result is not JsonObject body)
        {
            throw Malformed(what, "the result is not a JSON object", null);
        }

        RequireComplete(body, what);
    }

    public static CallToolResult ReadCompletedResult(DetailedTask task) =>
        Deserialize(task.Result!, s_callToolResult, $"the result of task '{task.TaskId}'");

    private static void RequireComplete(JsonObject body, string what)
    {
        // The extension requires "complete" here; a missing value is what the SDK itself treats as "complete".
        var resultType = ReadResultType(body, what);
        if (resultType is not null && resultType != McpTasks.CompleteResultType)
        {
            throw Malformed(what, $"resultType must be 'complete', not '{resultType}'", null);
        }
    }

    private static string? ReadResultType(JsonObject body, string what)
    {
        if (!body.TryGetPropertyValue("resultType", out var node) || node is null)
        {
            return null;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw Malformed(what, "resultType is not a string", null);
    }

    private static void RequireTaskId(string taskId, string what)
    {
        if (string.IsNullOrEmpty(taskId))
        {
            throw Malformed(what, "the task id is empty", null);
        }
    }

    private static T Deserialize<T>(JsonNode node, JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return node.Deserialize(typeInfo) ?? throw Malformed(what, "the result is null", null);
        }
        catch (JsonException exception)
        {
            throw Malformed(what, exception.Message, exception);
        }
    }

    private static McpException Malformed(string what, string problem, Exception? inner) =>
        new($"The server's answer to {what} is not valid under the Tasks extension ({McpTasks.ExtensionId}): {problem}.", inner);
}
