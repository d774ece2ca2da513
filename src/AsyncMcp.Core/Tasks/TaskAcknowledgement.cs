using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// The empty acknowledgement of <c>tasks/update</c> and <c>tasks/cancel</c>: <c>{"resultType":"complete"}</c>, with no
/// task members (both are eventually consistent; read the task's state with <c>tasks/get</c>).
/// </summary>
public sealed class TaskAcknowledgement : Result
{
    /// <summary>Initializes an acknowledgement with <c>resultType</c> set to <c>complete</c>.</summary>
    public TaskAcknowledgement() => ResultType = McpTasks.CompleteResultType;
}
