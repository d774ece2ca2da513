using System.Text.Json.Nodes;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Standard clients against the conformance fixture server with the Tasks extension on, over Streamable HTTP on
/// AsyncMcp's hybrid endpoint and through <c>asyncmcp proxy --listen</c> with the fixture behind SQS: the extension's
/// own TypeScript client (<c>@modelcontextprotocol/ext-tasks</c> 0.2.2) gets tasks, polls them to their end and cancels
/// one, and answers a task's input requests with <c>tasks/update</c>; clients that do not know the extension (the MCP TypeScript SDK,
/// a bare 2026-07-28 request) get ordinary results (<c>wire/ext-tasks-client.mjs</c>).
/// </summary>
public sealed class TasksInteropTests(BridgeEmulator emulator)
{
    [Theory]
    [InlineData(TasksFixtureFront.Hybrid)]
    [InlineData(TasksFixtureFront.ProxySqs)]
    public async Task The_extensions_client_gets_tasks_and_other_clients_ordinary_results(string front)
    {
        await using var server = await TasksFixtureFront.StartAsync(front, emulator);
        await using var node = ChildProcess.StartWireScript("ext-tasks-client.mjs", new Dictionary<string, string> { ["SERVER_URL"] = server.Url });
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"interop\"", StringComparison.Ordinal), TimeSpan.FromSeconds(300));
        var result = JsonNode.Parse(line)!["interop"]!;
        var ext = result["extTasks"]!;
        var plain = result["plain"]!;
        var all = result.ToJsonString();
        Assert.True(ext["crash"] is null && plain["crash"] is null, all);

        // A task tool: a task, polled with tasks/get (each naming the task in Mcp-Name) until it completed.
        var slow = ext["slow"]!;
        Assert.True((string?)slow["kind"] == "task" && (string?)slow["status"] == "completed", all);
        Assert.Equal("interop: computed in 1 s", (string?)slow["text"]);
        var polls = Wire(slow).Where(w => (string?)w["method"] == "tasks/get").ToList();
        Assert.NotEmpty(polls);
        Assert.All(polls, w => Assert.Equal((string?)slow["taskId"], (string?)w["mcpName"]));

        // A sync tool answers at once; a tool error is a completed task with isError; a JSON-RPC error a failed task.
        Assert.True((string?)ext["greet"]!["kind"] == "immediate" && (string?)ext["greet"]!["text"] == "Hello, ext-tasks!", all);
        Assert.True((string?)ext["toolError"]!["kind"] == "task" && (string?)ext["toolError"]!["status"] == "completed" && (bool?)ext["toolError"]!["isError"] == true, all);
        Assert.True((string?)ext["protocolError"]!["status"] == "failed" && (int?)ext["protocolError"]!["code"] == -32603, all);

        // Cancelled by the client: tasks/cancel, and the task ends cancelled.
        var cancel = ext["cancel"]!;
        Assert.True((string?)cancel["kind"] == "task" && (string?)cancel["status"] == "cancelled", all);
        Assert.Contains(Wire(cancel), w => (string?)w["method"] == "tasks/cancel" && (string?)w["mcpName"] == (string?)cancel["taskId"] && w["error"] is null);

        // Clients that do not know the extension: ordinary results; a tool that only runs as a task is refused (-32021).
        Assert.Equal("2025-11-25", (string?)plain["protocolVersion"]);
        Assert.True((string?)plain["sdkSlow"]!["text"] == "plain: computed in 1 s" && plain["sdkSlow"]!["taskId"] is null, all);
        Assert.True((int?)plain["sdkRequired"]!["code"] == -32021, all);
        Assert.True((string?)plain["bareSlow"]!["text"] == "bare: computed in 1 s" && (string?)plain["bareSlow"]!["resultType"] == "complete" && plain["bareSlow"]!["taskId"] is null, all);
    }

    private static IEnumerable<JsonNode> Wire(JsonNode call) => call["wire"]!.AsArray().Select(w => w!);

    /// <summary>
    /// The target for tools that ask for input (confirm_delete, multi_input): the extension's client sees input_required,
    /// answers with tasks/update, and the task completes with the tool's answer.
    /// </summary>
    [Theory]
    [InlineData(TasksFixtureFront.Hybrid)]
    [InlineData(TasksFixtureFront.ProxySqs)]
    public async Task The_extensions_client_answers_a_tasks_input_requests_with_tasks_update(string front)
    {
        await using var server = await TasksFixtureFront.StartAsync(front, emulator);
        await using var node = ChildProcess.StartWireScript("ext-tasks-client.mjs", new Dictionary<string, string> { ["SERVER_URL"] = server.Url });
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"interop\"", StringComparison.Ordinal), TimeSpan.FromSeconds(300));
        var ext = JsonNode.Parse(line)!["interop"]!["extTasks"]!;
        var all = ext.ToJsonString();

        var confirm = ext["confirm"]!;
        Assert.True((string?)confirm["kind"] == "task" && (string?)confirm["status"] == "completed" && (string?)confirm["text"] == "Deleted report.txt.", all);
        Assert.Contains(Wire(confirm), w => (string?)w["method"] == "tasks/update" && w["error"] is null);
        var multi = ext["multi"]!;
        Assert.True((string?)multi["status"] == "completed" && (string?)multi["text"] == "name=Alice, confirm=True", all);
    }
}
