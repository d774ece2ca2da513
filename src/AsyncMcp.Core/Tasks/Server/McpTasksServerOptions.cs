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

    /// <summary>
    /// Gets or sets where the work of tasks waits for a worker. <see langword="null"/> (the default) keeps it in this
    /// process (<see cref="InMemoryTaskWorkQueue"/>): a task then runs only here and is lost if this process ends. Use a
    /// queue shared by every worker (<c>SqsTaskWorkQueue</c>) so that another worker takes over a task whose worker died.
    /// </summary>
    public ITaskWorkQueue? WorkQueue { get; set; }

    /// <summary>Gets or sets how many tasks this process runs at once. Default: 16.</summary>
    public int MaxConcurrentTasks { get; set; } = 16;

    /// <summary>
    /// Gets or sets how long a task's work item stays leased to the worker running it without a renewal; the worker renews
    /// it every third of this. A task whose worker died is taken over by another worker about this long after. Default: 30 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how many times a task's work may be started (the first run, runs after a worker crashed, and runs after
    /// a worker stopped and handed it back) before the task is recorded as failed. Default: 5.
    /// </summary>
    public int MaxAttempts { get; set; } = 5;

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

        if (MaxConcurrentTasks < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentTasks), MaxConcurrentTasks, $"{nameof(McpTasksServerOptions)}.{nameof(MaxConcurrentTasks)} must be at least 1.");
        }

        // SQS visibility timeouts are whole seconds, at most 12 hours.
        if (LeaseDuration < TimeSpan.FromSeconds(3) || LeaseDuration > TimeSpan.FromHours(12))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, $"{nameof(McpTasksServerOptions)}.{nameof(LeaseDuration)} must be between 3 seconds and 12 hours.");
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"{nameof(McpTasksServerOptions)}.{nameof(MaxAttempts)} must be at least 1.");
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
