using System.Diagnostics.CodeAnalysis;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// What a <c>tools/call</c> that declared the Tasks extension was answered with: the tool's result at once, or a
/// handle to a task that produces it later.
/// </summary>
public sealed class ToolCallOrTask
{
    private ToolCallOrTask(CallToolResult? result, CreateTaskResult? task)
    {
        Result = result;
        Task = task;
    }

    /// <summary>Gets the tool's result when the server answered at once; otherwise <see langword="null"/>.</summary>
    public CallToolResult? Result { get; }

    /// <summary>Gets the task handle when the server runs the call as a task; otherwise <see langword="null"/>.</summary>
    public CreateTaskResult? Task { get; }

    /// <summary>Gets a value indicating whether the server runs the call as a task (<see cref="Task"/> is set).</summary>
    [MemberNotNullWhen(true, nameof(Task), nameof(TaskId))]
    [MemberNotNullWhen(false, nameof(Result))]
    public bool IsTask => Task is not null;

    /// <summary>Gets the task's id when the call runs as a task; keep it to resume the task from anywhere.</summary>
    public string? TaskId => Task?.TaskId;

    internal static ToolCallOrTask Immediate(CallToolResult result) => new(result, null);

    internal static ToolCallOrTask ForTask(CreateTaskResult task) => new(null, task);
}
