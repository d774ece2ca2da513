using System.ComponentModel;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.SQS;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Tasks;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

/// <summary>The host's durable tasks: a DynamoDB store and an SQS work queue shared with the other host processes.</summary>
internal sealed class TaskHosting : IAsyncDisposable
{
    private readonly IAmazonDynamoDB? _dynamo;

    private TaskHosting(McpTaskWorker? worker, IAmazonDynamoDB? dynamo)
    {
        Worker = worker;
        _dynamo = dynamo;
    }

    public McpTaskWorker? Worker { get; }

    public static TaskHosting AddTo(McpServerOptions options, string[] args, Func<string, string?, string> option, IAmazonSQS sqs, ILoggerFactory loggerFactory)
    {
        if (!args.Contains("--task-table"))
        {
            return new TaskHosting(null, null);
        }

        var sideEffects = args.Contains("--side-effects") ? option("--side-effects", null) : null;
        options.ToolCollection ??= [];
        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Runs steps × delayMs, reporting progress with this process's id after each step; records its side effects.")]
            async (int steps, int delayMs, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken) =>
            {
                Record(sideEffects, "start");
                try
                {
                    for (var step = 1; step <= steps; step++)
                    {
                        await Task.Delay(delayMs, cancellationToken);
                        progress.Report(new ProgressNotificationValue { Progress = step, Total = steps, Message = $"step {step} of {steps} on {Environment.ProcessId}" });
                    }
                }
                catch (OperationCanceledException)
                {
                    Record(sideEffects, "cancelled");
                    throw;
                }

                Record(sideEffects, "end");
                return $"done after {steps} steps";
            },
            new() { Name = "long_job" }));

        // Which worker answered which tasks/* request, for tests that show every worker answers for any task.
        options.Filters.Message.IncomingFilters.Add(next => async (context, cancellationToken) =>
        {
            if (context.JsonRpcMessage is JsonRpcRequest { Method: var method } && method.StartsWith("tasks/", StringComparison.Ordinal))
            {
                Record(sideEffects, method);
            }

            await next(context, cancellationToken);
        });

        var dynamo = DynaliteEmulator.CreateClient(option("--dynamodb-url", null));
        var tasks = new McpTasksServerOptions
        {
            Store = new DynamoDbTaskStore(dynamo, new DynamoDbTaskStoreOptions { TableName = option("--task-table", null) }),
            WorkQueue = new SqsTaskWorkQueue(sqs, option("--task-queue-url", null), loggerFactory),
            LeaseDuration = TimeSpan.FromSeconds(int.Parse(option("--task-lease-seconds", "30"), CultureInfo.InvariantCulture)),
            DefaultTimeToLive = TimeSpan.FromSeconds(int.Parse(option("--task-ttl-seconds", "3600"), CultureInfo.InvariantCulture)),
            PollInterval = TimeSpan.FromMilliseconds(100),
        };
        tasks.TaskTools.Add("long_job");
        tasks.TaskTools.Add("elicit");
        return new TaskHosting(options.AddTasks(tasks, loggerFactory), dynamo);
    }

    public async ValueTask DisposeAsync()
    {
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }

        _dynamo?.Dispose();
    }

    private static void Record(string? file, string what)
    {
        if (file is not null)
        {
            File.AppendAllText(file, $"{what} {Environment.ProcessId}\n");
        }
    }
}
