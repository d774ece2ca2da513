using Amazon.DynamoDBv2;
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

    public static void ServerTasks(McpServerOptions serverOptions, ILoggerFactory loggerFactory)
    {
        // snippet: tasks-server
        var tasks = new McpTasksServerOptions { Store = new InMemoryTaskStore(), DefaultTimeToLive = TimeSpan.FromHours(1), PollInterval = TimeSpan.FromSeconds(1) };
        tasks.TaskTools.Add("slow_compute");
        serverOptions.AddTasks(tasks, loggerFactory);   // McpServerOptions, before the server is created
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
