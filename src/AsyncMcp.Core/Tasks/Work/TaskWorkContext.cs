using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Tasks;

/// <summary>What the request handlers and the worker of one <c>AddTasks</c> share.</summary>
internal sealed class TaskWorkContext(
    McpTasksServerOptions tasks,
    McpServerOptions serverOptions,
    IServiceProvider? services,
    ILoggerFactory loggerFactory)
{
    public ITaskStore Store { get; } = tasks.ValidatedStore;

    public ITaskWorkQueue Queue { get; } = tasks.WorkQueue ?? new InMemoryTaskWorkQueue();

    public TaskSignals Signals { get; } = new();

    public TimeSpan PollInterval { get; } = tasks.PollInterval;

    public TimeSpan LeaseDuration { get; } = tasks.LeaseDuration;

    public int MaxConcurrentTasks { get; } = tasks.MaxConcurrentTasks;

    public int MaxAttempts { get; } = tasks.MaxAttempts;

    public McpServerOptions ServerOptions { get; } = serverOptions;

    public IServiceProvider? Services { get; } = services;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}
