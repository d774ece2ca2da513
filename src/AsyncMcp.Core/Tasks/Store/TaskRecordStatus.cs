namespace AsyncMcp.Tasks;

/// <summary>
/// The status of a durable task, exactly the statuses of the MCP Tasks extension (<c>io.modelcontextprotocol/tasks</c>).
/// </summary>
/// <remarks>
/// Allowed transitions: a task starts <see cref="Working"/> (or <see cref="InputRequired"/>);
/// <see cref="Working"/> and <see cref="InputRequired"/> move to each other and to any terminal status;
/// <see cref="Completed"/>, <see cref="Failed"/> and <see cref="Cancelled"/> are terminal and never change.
/// </remarks>
public enum TaskRecordStatus
{
    /// <summary>The task is running (<c>working</c>).</summary>
    Working,

    /// <summary>The task waits for answers to its outstanding input requests (<c>input_required</c>).</summary>
    InputRequired,

    /// <summary>The task finished with a result, which may be a tool result with <c>isError: true</c> (<c>completed</c>).</summary>
    Completed,

    /// <summary>The task ended with a JSON-RPC error (<c>failed</c>).</summary>
    Failed,

    /// <summary>The task was cancelled (<c>cancelled</c>).</summary>
    Cancelled,
}

/// <summary>Facts about <see cref="TaskRecordStatus"/> values: terminal or not, the wire name, the allowed transitions.</summary>
public static class TaskRecordStatusExtensions
{
    /// <summary>Whether the status is terminal (<c>completed</c>, <c>failed</c> or <c>cancelled</c>): a terminal task never changes again.</summary>
    /// <param name="status">The status.</param>
    /// <returns><see langword="true"/> for a terminal status.</returns>
    public static bool IsTerminal(this TaskRecordStatus status) =>
        status is TaskRecordStatus.Completed or TaskRecordStatus.Failed or TaskRecordStatus.Cancelled;

    /// <summary>Whether a task may move from <paramref name="from"/> to <paramref name="to"/>: only a non-terminal task changes status.</summary>
    /// <param name="from">The current status.</param>
    /// <param name="to">The next status.</param>
    /// <returns><see langword="true"/> when the transition is allowed (staying in a non-terminal status is allowed).</returns>
    public static bool CanMoveTo(this TaskRecordStatus from, TaskRecordStatus to) => !from.IsTerminal() && Enum.IsDefined(to);

    /// <summary>The status as the extension writes it on the wire (<c>working</c>, <c>input_required</c>, ...).</summary>
    /// <param name="status">The status.</param>
    /// <returns>The wire name.</returns>
    public static string ToWireValue(this TaskRecordStatus status) => status switch
    {
        TaskRecordStatus.Working => "working",
        TaskRecordStatus.InputRequired => "input_required",
        TaskRecordStatus.Completed => "completed",
        TaskRecordStatus.Failed => "failed",
        TaskRecordStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a task status."),
    };

    /// <summary>Reads a wire name written by <see cref="ToWireValue"/>.</summary>
    /// <param name="value">The wire name.</param>
    /// <param name="status">The status, when the name is known.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> names a status.</returns>
    public static bool TryParseWireValue(string? value, out TaskRecordStatus status)
    {
        (var known, status) = value switch
        {
            "working" => (true, TaskRecordStatus.Working),
            "input_required" => (true, TaskRecordStatus.InputRequired),
            "completed" => (true, TaskRecordStatus.Completed),
            "failed" => (true, TaskRecordStatus.Failed),
            "cancelled" => (true, TaskRecordStatus.Cancelled),
            _ => (false, TaskRecordStatus.Working),
        };
        return known;
    }
}
