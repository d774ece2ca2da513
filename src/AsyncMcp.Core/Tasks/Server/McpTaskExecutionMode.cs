namespace AsyncMcp.Tasks;

/// <summary>Whether one <c>tools/call</c> runs as a task of the Tasks extension (<see cref="McpTasksServerOptions.ExecutionModeSelector"/>).</summary>
public enum McpTaskExecutionMode
{
    /// <summary>The call answers at once, as if the extension were not there.</summary>
    Synchronous,

    /// <summary>A task when the request declares the extension; otherwise the call answers at once.</summary>
    Optional,

    /// <summary>
    /// A task when the request declares the extension; a request that does not is refused with <c>-32021</c>
    /// (missing required client capability), the tool not run.
    /// </summary>
    Required,
}
