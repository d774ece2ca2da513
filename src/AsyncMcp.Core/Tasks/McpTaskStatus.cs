using System.Text.Json;
using System.Text.Json.Serialization;

namespace AsyncMcp.Tasks;

/// <summary>The status of a task.</summary>
/// <remarks>
/// A task starts <see cref="Working"/>, may move between <see cref="Working"/> and <see cref="InputRequired"/>, and
/// ends in exactly one of the terminal statuses <see cref="Completed"/>, <see cref="Failed"/> and
/// <see cref="Cancelled"/>, which never change.
/// </remarks>
[JsonConverter(typeof(McpTaskStatusConverter))]
public enum McpTaskStatus
{
    /// <summary><c>working</c>: the request is being processed.</summary>
    Working,

    /// <summary><c>input_required</c>: the task waits for answers to its input requests (<c>tasks/update</c>).</summary>
    InputRequired,

    /// <summary><c>completed</c>: the request finished and its result is available, including a tool result with <c>isError: true</c>.</summary>
    Completed,

    /// <summary><c>failed</c>: the request ended with a JSON-RPC error during execution.</summary>
    Failed,

    /// <summary><c>cancelled</c>: the request was cancelled before it completed.</summary>
    Cancelled,
}

/// <summary>Extension methods for <see cref="McpTaskStatus"/>.</summary>
public static class McpTaskStatusExtensions
{
    /// <summary>Tells whether a status is terminal: <c>completed</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    /// <param name="status">The status.</param>
    /// <returns><see langword="true"/> for a terminal status.</returns>
    public static bool IsTerminal(this McpTaskStatus status) =>
        status is McpTaskStatus.Completed or McpTaskStatus.Failed or McpTaskStatus.Cancelled;
}

/// <summary>Reads and writes statuses as the extension spells them; numbers and unknown names are refused.</summary>
internal sealed class McpTaskStatusConverter() : JsonStringEnumConverter<McpTaskStatus>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false);
