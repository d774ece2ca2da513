using AsyncMcp.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Hosting;

/// <summary>Turns on durable tasks (the MCP Tasks extension) for an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class TasksMcpServerBuilderExtensions
{
    /// <summary>
    /// Runs the tools named in <see cref="McpTasksServerOptions.TaskTools"/> as tasks for clients that declare the
    /// extension, and runs this host's share of the tasks' work for as long as the host runs (on stop, running tasks get
    /// the host's shutdown timeout to finish and are then handed back to the work queue for another worker).
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the task options; <see cref="McpTasksServerOptions.Store"/> and
    /// <see cref="McpTasksServerOptions.WorkQueue"/> left unset are taken from the container (<see cref="ITaskStore"/>,
    /// <see cref="ITaskWorkQueue"/>) when registered there.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithTasks(this IMcpServerBuilder builder, Action<McpTasksServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.AddSingleton<HostedTaskWorker>();
        builder.Services.AddSingleton<IConfigureOptions<McpServerOptions>>(sp => new ConfigureOptions<McpServerOptions>(options => sp.GetRequiredService<HostedTaskWorker>().Attach(options)));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HostedTaskWorker>());
        return builder;
    }

    /// <summary>The host's task worker: created when the server options are, stopped with the host.</summary>
    private sealed class HostedTaskWorker(IServiceProvider services) : IHostedService, IAsyncDisposable
    {
        private McpTaskWorker? _worker;

        public void Attach(McpServerOptions serverOptions)
        {
            if (_worker is { } worker)
            {
                // Options made again (a named or reloaded options instance): the same runtime and worker.
                serverOptions.AddTasks(worker);
                return;
            }

            var tasks = services.GetRequiredService<IOptions<McpTasksServerOptions>>().Value;
            tasks.Store ??= services.GetService<ITaskStore>();
            tasks.WorkQueue ??= services.GetService<ITaskWorkQueue>();
            _worker = serverOptions.AddTasks(tasks, services.GetService<ILoggerFactory>(), services);
        }

        // Resolving the server options creates the worker, so that it takes work even before the first request.
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<IOptions<McpServerOptions>>().Value;
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_worker is { } worker)
            {
                await worker.StopAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_worker is { } worker)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
