using Amazon.DynamoDBv2;
using Amazon.SQS;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Snippets;

internal static class TaskSnippets
{
    public static async Task<CallToolResult> ClientTask(McpClient client, CancellationToken ct)
    {
        // snippet: tasks-client
        var call = await client.CallToolAsTaskAsync("slow_compute", new Dictionary<string, object?> { ["steps"] = 60 }, ct);
        if (!call.IsTask)
        {
            return call.Result;                          // the server answered at once
        }

        await File.WriteAllTextAsync("task-id.txt", call.TaskId, ct);   // all a later process needs

        // Later, possibly in another process with another McpClient and connection:
        var taskId = await File.ReadAllTextAsync("task-id.txt", ct);
        var result = await client.WaitForTaskAsync(
            taskId,
            new Progress<DetailedTask>(task => Console.WriteLine($"{task.Status}: {task.StatusMessage}")),
            new McpTaskWaitOptions { Timeout = TimeSpan.FromMinutes(30) },
            ct);
        // end snippet
        return result;
    }

    public static async Task ServerTasks(McpServerOptions serverOptions, IAmazonSQS sqs, string taskQueueUrl, ILoggerFactory loggerFactory, IServiceProvider services, CancellationToken drainToken)
    {
        // snippet: tasks-server
        using var dynamo = new AmazonDynamoDBClient();
        var tasks = new McpTasksServerOptions
        {
            Store = new DynamoDbTaskStore(dynamo, new DynamoDbTaskStoreOptions { TableName = "asyncmcp-tasks" }),
            WorkQueue = new SqsTaskWorkQueue(sqs, taskQueueUrl),
            DefaultTimeToLive = TimeSpan.FromHours(24),
        };
        tasks.TaskTools.Add("slow_compute");
        await using var worker = serverOptions.AddTasks(tasks, loggerFactory, services);   // McpServerOptions, before the server is created
        // ... run the server; when it stops:
        await worker.StopAsync(drainToken);
        // end snippet
    }

    public static async Task DynamoDb()
    {
        // snippet: tasks-dynamodb
        using var dynamo = new AmazonDynamoDBClient();
        await new DynamoDbTaskTableProvisioner(dynamo).EnsureTableAsync("asyncmcp-tasks");
        var store = new DynamoDbTaskStore(dynamo, new DynamoDbTaskStoreOptions { TableName = "asyncmcp-tasks" });
        // end snippet
    }
}
