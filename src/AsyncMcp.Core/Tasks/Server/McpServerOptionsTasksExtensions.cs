using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
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
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The extension is already added to these options.</exception>
    /// <remarks>
    /// A request that does not declare the extension runs the tool as an ordinary call. Each task runs in this process,
    /// in the background, through the server's own tool pipeline (filters included); progress the tool reports is
    /// written to the task, where <c>tasks/get</c> shows it as the status message.
    /// </remarks>
    public static McpServerOptions AddTasks(this McpServerOptions options, McpTasksServerOptions tasks, ILoggerFactory? loggerFactory = null)
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

        var runtime = new TaskRuntime(tasks, loggerFactory);
#pragma warning disable MCPEXP002 // The alternate-result filter and custom request handlers are the SDK's hooks for this extension.
        // Appended, so that filters registered earlier (authorization among them) run before a task is created.
        options.Filters.Request.CallToolWithAlternateFilters.Add(runtime.CallToolAsync);
        options.RequestHandlers ??= [];
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.GetMethod, RoutingNameParameter = "taskId", Handler = runtime.GetAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.UpdateMethod, RoutingNameParameter = "taskId", Handler = runtime.UpdateAsync });
        options.RequestHandlers.Add(new McpServerRequestHandler { Method = McpTasks.CancelMethod, RoutingNameParameter = "taskId", Handler = runtime.CancelAsync });
#pragma warning restore MCPEXP002
        return options;
    }
}
