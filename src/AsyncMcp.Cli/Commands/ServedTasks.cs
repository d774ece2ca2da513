using System.CommandLine;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.SQS;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// What <c>serve --task-tool</c> runs beside the transport: the task store (a DynamoDB table, or memory), the work
/// queue (an SQS queue, or this process), the front server with the Tasks extension (<see cref="TaskToolBridge"/>), the
/// worker that runs this process's share of the tasks, and the AWS clients they need; stopped and disposed together.
/// </summary>
internal sealed class ServedTasks : IAsyncDisposable
{
    // How long running tasks may take to finish when serve stops; the rest go back to the task queue for another worker.
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(10);

    private readonly McpTaskWorker _worker;
    private readonly IAmazonDynamoDB? _dynamo;
    private readonly IAmazonSQS? _sqs;

    private ServedTasks(TaskToolBridge bridge, McpTaskWorker worker, IAmazonDynamoDB? dynamo, IAmazonSQS? sqs)
    {
        Bridge = bridge;
        _worker = worker;
        _dynamo = dynamo;
        _sqs = sqs;
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
        Option<string?> taskQueue,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var table = cli.Get(taskTable);
        var queue = TransportSettings.CheckQueue(cli, taskQueue, cli.Get(taskQueue));
        if (queue is not null && string.IsNullOrWhiteSpace(table))
        {
            throw new CliUsageException($"--task-queue{cli.Origin(taskQueue)} needs --task-table: the worker that takes a task from the queue reads it from the table ({CliSettings.Alternatives(taskTable)}).");
        }

        IAmazonDynamoDB? dynamo = null;
        IAmazonSQS? sqs = null;
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

            ITaskWorkQueue? workQueue = null;
            if (queue is not null)
            {
                var (endpoint, region) = TransportSettings.ReadAws(cli);
                sqs = TransportSettings.CreateSqs(endpoint, region);
                var queueUrl = await TransportSettings.Resolved.QueueUrlAsync(sqs, queue, cancellationToken).ConfigureAwait(false);
                await TransportSettings.Resolved.RequireQueueAsync(sqs, queueUrl, taskQueue, cancellationToken).ConfigureAwait(false);
                workQueue = new SqsTaskWorkQueue(sqs, queueUrl, loggerFactory);
                where += $", work on queue {queueUrl}";
            }

            var bridge = await TaskToolBridge.StartAsync(server, taskTools, loggerFactory, cancellationToken).ConfigureAwait(false);
            var tasks = new McpTasksServerOptions { Store = store, WorkQueue = workQueue };
            tasks.TaskTools.UnionWith(taskTools);
            var worker = bridge.ServerOptions.AddTasks(tasks, loggerFactory);
            await Console.Error.WriteLineAsync($"asyncmcp serve: tools run as tasks ({where}): {string.Join(", ", taskTools.Order(StringComparer.Ordinal))}").ConfigureAwait(false);
            return new ServedTasks(bridge, worker, dynamo, sqs);
        }
        catch
        {
            dynamo?.Dispose();
            sqs?.Dispose();
            throw;
        }
    }

    /// <summary>Stops taking tasks, lets running ones finish for a while (the rest go back to the queue), then closes the children and clients.</summary>
    public async ValueTask DisposeAsync()
    {
        using (var drain = new CancellationTokenSource(s_drain))
        {
            try
            {
                await _worker.StopAsync(drain.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                await Console.Error.WriteLineAsync($"asyncmcp serve: warning: the task worker did not stop cleanly: {CliMessages.Innermost(ex)}").ConfigureAwait(false);
            }
        }

        await _worker.DisposeAsync().ConfigureAwait(false);
        await Bridge.DisposeAsync().ConfigureAwait(false);
        _dynamo?.Dispose();
        _sqs?.Dispose();
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
