using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// A task with the members of its current status inlined: the result of <c>tasks/get</c> (<c>resultType</c> is
/// <c>complete</c>).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>input_required</c>: <see cref="InputRequests"/> holds every outstanding request, keyed; a key stays until answered.</item>
/// <item><c>completed</c>: <see cref="Result"/> holds the original request's result (for <c>tools/call</c>, a
/// <c>CallToolResult</c>, also when its <c>isError</c> is true).</item>
/// <item><c>failed</c>: <see cref="Error"/> holds the JSON-RPC error the execution ended with.</item>
/// </list>
/// </remarks>
public sealed class DetailedTask : McpTask
{
    /// <summary>Initializes a task state with <c>resultType</c> set to <c>complete</c>.</summary>
    public DetailedTask() => ResultType = McpTasks.CompleteResultType;

    /// <summary>Gets or sets the outstanding input requests (status <c>input_required</c> only), keyed by ids unique over the task's life.</summary>
    [JsonPropertyName("inputRequests")]
    public IDictionary<string, InputRequest>? InputRequests { get; set; }

    /// <summary>
    /// Gets or sets the final result (status <c>completed</c> only). Servers should build it with
    /// <see cref="McpTasks.ToInlinedResult(CallToolResult)"/> so that it carries <c>"resultType": "complete"</c>.
    /// </summary>
    [JsonPropertyName("result")]
    public JsonObject? Result { get; set; }

    /// <summary>Gets or sets the error the task failed with (status <c>failed</c> only): <c>{code, message, data?}</c>.</summary>
    [JsonPropertyName("error")]
    public JsonRpcErrorDetail? Error { get; set; }
}
