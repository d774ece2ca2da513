namespace AsyncMcp.Tasks;

/// <summary>How <see cref="McpClientTasksExtensions.WaitForTaskAsync"/> polls a task.</summary>
public sealed class McpTaskWaitOptions
{
    /// <summary>
    /// Gets or sets the longest the wait lasts before it gives up with a <see cref="TimeoutException"/>; the task itself
    /// keeps running and can be waited for again. Default: <see langword="null"/>, no limit other than the cancellation token.
    /// </summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Gets or sets the interval between polls when the server suggests none. Default: 1 second.</summary>
    public TimeSpan DefaultPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the shortest interval between polls, whatever the server suggests. Default: 10 milliseconds.</summary>
    public TimeSpan MinimumPollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Gets or sets the longest interval between polls, whatever the server suggests, so that a wait notices a finished
    /// task in bounded time. Default: 30 seconds.
    /// </summary>
    public TimeSpan MaximumPollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets a value indicating whether the wait answers the task's input requests itself, each key once, through
    /// the client's own handlers (<c>McpClientOptions.Handlers</c>: elicitation, sampling, roots) and
    /// <c>tasks/update</c>. When <see langword="false"/>, an <c>input_required</c> task is only reported, and someone
    /// else answers it with <see cref="McpClientTasksExtensions.UpdateTaskAsync"/>. Default: <see langword="true"/>.
    /// </summary>
    public bool ResolveInputRequests { get; set; } = true;

    internal void Validate()
    {
        if (Timeout is { } timeout && timeout <= TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), timeout, $"{nameof(McpTaskWaitOptions)}.{nameof(Timeout)} must be positive.");
        }

        if (MinimumPollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumPollInterval), MinimumPollInterval, $"{nameof(McpTaskWaitOptions)}.{nameof(MinimumPollInterval)} must be positive.");
        }

        if (MaximumPollInterval < MinimumPollInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumPollInterval), MaximumPollInterval, $"{nameof(McpTaskWaitOptions)}.{nameof(MaximumPollInterval)} must not be shorter than {nameof(MinimumPollInterval)}.");
        }

        if (DefaultPollInterval < MinimumPollInterval || DefaultPollInterval > MaximumPollInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultPollInterval), DefaultPollInterval, $"{nameof(McpTaskWaitOptions)}.{nameof(DefaultPollInterval)} must lie between {nameof(MinimumPollInterval)} and {nameof(MaximumPollInterval)}.");
        }
    }
}
