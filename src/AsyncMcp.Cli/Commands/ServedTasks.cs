using System.CommandLine;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// What <c>serve --task-tool</c> runs beside the transport: the task store (a DynamoDB table, or memory), the front
/// server with the Tasks extension (<see cref="TaskToolBridge"/>), and the AWS client they need; disposed together.
/// </summary>
internal sealed class ServedTasks : IAsyncDisposable
{
    private readonly IAmazonDynamoDB? _dynamo;

    private ServedTasks(TaskToolBridge bridge, IAmazonDynamoDB? dynamo)
    {
        Bridge = bridge;
        _dynamo = dynamo;
    }

    /// <summary>The front server, whose <see cref="TaskToolBridge.RunSessionAsync"/> serves the transport's sessions.</summary>
    public TaskToolBridge Bridge { get; }

    /// <summary>Opens the store, probes the MCP server, checks the task tools and turns the extension on.</summary>
    /// <exception cref="CliUsageException">A bad table name or endpoint, or a task tool the server does not have.</exception>
    /// <exception cref="CliFailureException">The table does not exist.</exception>
    public static async Task<ServedTasks> StartAsync(
        CliSettings cli,
        McpServerBridgeOptions server,
        IReadOnlySet<string> taskTools,
        Option<string?> taskTable,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var table = cli.Get(taskTable);
        IAmazonDynamoDB? dynamo = null;
        try
        {
            ITaskStore store;
            string where;
            if (string.IsNullOrWhiteSpace(table))
            {
                store = new InMemoryTaskStore();
                where = "in this process's memory";
                await Console.Error.WriteLineAsync("asyncmcp serve: warning: tasks are kept in memory (no --task-table): they do not survive a restart, and other replicas do not see them.").ConfigureAwait(false);
            }
            else
            {
                table = table.Trim();
                var storeOptions = new DynamoDbTaskStoreOptions { TableName = table };
                try
                {
                    storeOptions.Validate();
                }
                catch (ArgumentException)
                {
                    throw new CliUsageException($"--task-table must be a DynamoDB table name of 3 to 255 letters, digits, '_', '-' and '.' (was '{table}'{cli.Origin(taskTable)}).");
                }

                var (endpoint, region) = TransportSettings.ReadAws(cli);
                dynamo = TransportSettings.CreateDynamoDb(TransportSettings.ReadDynamoDbEndpoint(cli, endpoint), region);
                await RequireTableAsync(dynamo, table, cancellationToken).ConfigureAwait(false);
                store = new DynamoDbTaskStore(dynamo, storeOptions, logger: loggerFactory.CreateLogger<DynamoDbTaskStore>());
                where = $"in DynamoDB table '{table}'";
            }

            var bridge = await TaskToolBridge.StartAsync(server, taskTools, loggerFactory, cancellationToken).ConfigureAwait(false);
            var tasks = new McpTasksServerOptions { Store = store };
            tasks.TaskTools.UnionWith(taskTools);
            bridge.ServerOptions.AddTasks(tasks, loggerFactory);
            await Console.Error.WriteLineAsync($"asyncmcp serve: tools run as tasks ({where}): {string.Join(", ", taskTools.Order(StringComparer.Ordinal))}").ConfigureAwait(false);
            return new ServedTasks(bridge, dynamo);
        }
        catch
        {
            dynamo?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Bridge.DisposeAsync().ConfigureAwait(false);
        _dynamo?.Dispose();
    }

    /// <summary>A table that is not there is reported at start, with the command that creates it, not at the first task.</summary>
    private static async Task RequireTableAsync(IAmazonDynamoDB dynamo, string table, CancellationToken cancellationToken)
    {
        try
        {
            await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException ex)
        {
            throw new CliFailureException($"the task table '{table}' does not exist: create it with 'asyncmcp provision --task-table {table}'.", ex);
        }
    }
}
