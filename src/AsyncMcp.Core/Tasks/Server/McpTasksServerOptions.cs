namespace AsyncMcp.Tasks;

/// <summary>
/// Which tools of an MCP server run as durable tasks of the Tasks extension (<c>io.modelcontextprotocol/tasks</c>), where
/// the tasks are kept, and what clients are told about them. Apply with
/// <see cref="McpServerOptionsTasksExtensions.AddTasks"/>.
/// </summary>
public sealed class McpTasksServerOptions
{
    /// <summary>Gets or sets where tasks are kept. Required.</summary>
    public ITaskStore? Store { get; set; }

    /// <summary>
    /// Gets the names of the tools that run as tasks when the request declares the extension. Tools not named here
    /// always answer at once; an empty set changes nothing.
    /// </summary>
    public ISet<string> TaskTools { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how long a task is kept after it was created (<c>ttlMs</c>), result included;
    /// <see langword="null"/> keeps it until deleted. Default: 1 hour.
    /// </summary>
    public TimeSpan? DefaultTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets the interval between two <c>tasks/get</c> polls suggested to clients (<c>pollIntervalMs</c>); the
    /// running task also checks the store for a cancel request at this interval. Default: 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal ITaskStore ValidatedStore => Store!;

    internal void Validate()
    {
        if (Store is null)
        {
            throw new ArgumentException($"{nameof(McpTasksServerOptions)}.{nameof(Store)} must be set.", nameof(Store));
        }

        if (DefaultTimeToLive is { } ttl && ttl < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultTimeToLive), ttl, $"{nameof(McpTasksServerOptions)}.{nameof(DefaultTimeToLive)} must be at least 1 ms, or null for no expiry.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, $"{nameof(McpTasksServerOptions)}.{nameof(PollInterval)} must be at least 1 ms.");
        }

        foreach (var name in TaskTools)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException($"{nameof(McpTasksServerOptions)}.{nameof(TaskTools)} must not contain an empty name.", nameof(TaskTools));
            }
        }
    }
}
