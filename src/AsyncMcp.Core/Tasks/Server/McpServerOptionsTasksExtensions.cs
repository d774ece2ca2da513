using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Tasks;

/// <summary>Turns on the server side of the MCP Tasks extension (<c>io.modelcontextprotocol/tasks</c>) for an MCP server.</summary>
public static class McpServerOptionsTasksExtensions
{
    /// <summary>
    /// Makes the tools named in <see cref="McpTasksServerOptions.TaskTools"/> run as tasks for requests that declare the
    /// extension (protocol revision 2026-07-28 and later), answers <c>tasks/get</c>, <c>tasks/update</c> and
    /// <c>tasks/cancel</c>, and advertises the extension in the server's capabilities.
    /// </summary>
    /// <param name="options">The server's options, before the server is created; every server created from them shares the runtime.</param>
    /// <param name="tasks">What runs as a task and where tasks are kept; validated here and read once.</param>
    /// <param name="loggerFactory">Where the runtime logs; none when <see langword="null"/>.</param>
    /// <param name="services">The services tools run with (the server's own provider, as given to its transport); none when <see langword="null"/>.</param>
    /// <returns>The worker that runs this process's share of the tasks, already taking work; stop or dispose it when the server stops.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The extension is already added to these options.</exception>
    /// <remarks>
    /// A request that does not declare the extension runs the tool as an ordinary call. A task is stored, its work queued
    /// (<see cref="McpTasksServerOptions.WorkQueue"/>) and the handle answered; a worker runs it through the server's own
    /// tool pipeline on a private session, writes the progress the tool reports to the task, turns its requests for
    /// input into <c>input_required</c>, and records its end once.
    /// </remarks>
    public static McpTaskWorker AddTasks(this McpServerOptions options, McpTasksServerOptions tasks, ILoggerFactory? loggerFactory = null, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tasks);
        tasks.Validate();

        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Extensions ??= new Dictionary<string, object>(StringComparer.Ordinal);
        if (options.Capabilities.Extensions.ContainsKey(McpTasks.ExtensionId))
        {
            throw new InvalidOperationException($"The {McpTasks.ExtensionId} extension is already added to these server options.");
        }

        // Exactly {}: the extension's clients refuse any other declaration.
        options.Capabilities.Extensions[McpTasks.ExtensionId] = new JsonObject();

        var context = new TaskWorkContext(tasks, options, services, loggerFactory ?? NullLoggerFactory.Instance);
        var runtime = new TaskRuntime(context, tasks.TaskTools, tasks.DefaultTimeToLive);
#pragma warning disable MCPEXP002 // The alternate-result filter and custom request handlers are the SDK's hooks for this extension.
        // Appended, so that filters registered earlier (authorization among them) run before a task is created.
        options.Filters.Request.CallToolWithAlternateFilters.Add(runtime.CallToolAsync);
        options.RequestHandlers ??= [];
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.GetMethod, RoutingNameParameter = "taskId", Handler = runtime.GetAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.UpdateMethod, RoutingNameParameter = "taskId", Handler = runtime.UpdateAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.CancelMethod, RoutingNameParameter = "taskId", Handler = runtime.CancelAsync });
#pragma warning restore MCPEXP002
        return new McpTaskWorker(context);
    }
}
