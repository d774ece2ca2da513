using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Durable tasks from the command line, as users run them: <c>asyncmcp serve --task-tool</c> in front of
/// <c>@modelcontextprotocol/server-everything</c> (which knows nothing of tasks) with the tasks in a DynamoDB table
/// (dynalite) or in memory, <c>asyncmcp call --task</c> in one process and <c>asyncmcp task get|wait|cancel</c> in
/// others, on one response queue. Every process is started here and ended by its process id.
/// </summary>
public sealed class CliTaskTests(BridgeEmulator emulator, DynaliteFixture dynalite)
{
    private const string LongTool = "trigger-long-running-operation";

    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task A_task_started_by_one_process_is_followed_and_its_recorded_result_read_by_others()
    {
        var table = await dynalite.CreateTaskTableAsync("cli-tasks");
        var taskQueue = FauxqsEmulator.UniqueName("cli-task-work");
        var (target, environment) = await TargetAsync();
        await using var serve = await _cli.StartServeAsync([.. ServeOptions(target), "--task-tool", LongTool, "--task-table", table, "--task-queue", taskQueue], environment);
        Assert.Contains($"work on queue", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("tasks are kept in memory", serve.Output, StringComparison.Ordinal);

        var (startExit, startOutput) = await _cli.RunAsync(["call", .. target, "--tool", LongTool, "--arg", "duration=2", "--arg", "steps=4", "--task", "--json"], environment);
        Assert.True(startExit == 0, startOutput + serve.Output);
        var taskId = (string?)CliProcess.LastJsonLine(startOutput)["taskId"];
        Assert.False(string.IsNullOrEmpty(taskId), startOutput);

        // The process that started it is gone; another one reads it, waits for it, and a third reads what was recorded.
        var (getExit, getOutput) = await _cli.RunAsync(["task", "get", taskId, .. target, "--json"], environment);
        Assert.True(getExit == 0, getOutput + serve.Output);
        var state = CliProcess.LastJsonLine(getOutput);
        Assert.Equal(taskId, (string?)state["taskId"]);
        Assert.Contains((string?)state["status"], new[] { "working", "completed" });

        var (waitExit, waitOutput) = await _cli.RunAsync(["task", "wait", taskId, .. target], environment);
        Assert.True(waitExit == 0, waitOutput + serve.Output);
        Assert.Contains("Long running operation completed", waitOutput, StringComparison.Ordinal);

        var (jsonExit, jsonOutput) = await _cli.RunAsync(["task", "wait", taskId, .. target, "--json"], environment);
        Assert.True(jsonExit == 0, jsonOutput);
        Assert.StartsWith("Long running operation completed", (string?)CliProcess.LastJsonLine(jsonOutput)["content"]![0]!["text"], StringComparison.Ordinal);

        var (doneExit, doneOutput) = await _cli.RunAsync(["task", "get", taskId, .. target, "--json"], environment);
        Assert.True(doneExit == 0, doneOutput);
        var done = CliProcess.LastJsonLine(doneOutput);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.StartsWith("Long running operation completed", (string?)done["result"]!["content"]![0]!["text"], StringComparison.Ordinal);

        // The record is in the table itself, where any replica finds it.
        var item = await dynalite.Dynamo.GetItemAsync(table, new() { ["taskId"] = new(taskId) }, TestContext.Current.CancellationToken);
        Assert.True(item.IsItemSet, "the task is not in the table");
    }

    [Fact]
    public async Task A_sixty_second_task_outlives_the_waiting_client_process_killed_mid_way_and_a_new_process_gets_its_result()
    {
        var table = await dynalite.CreateTaskTableAsync("cli-long");
        var taskQueue = FauxqsEmulator.UniqueName("cli-long-work");
        var (target, environment) = await TargetAsync();
        await using var serve = await _cli.StartServeAsync([.. ServeOptions(target), "--task-tool", LongTool, "--task-table", table, "--task-queue", taskQueue], environment);

        var (startExit, startOutput) = await _cli.RunAsync(["call", .. target, "--tool", LongTool, "--arg", "duration=60", "--arg", "steps=30", "--task", "--json"], environment);
        Assert.True(startExit == 0, startOutput + serve.Output);
        var taskId = (string)CliProcess.LastJsonLine(startOutput)["taskId"]!;
        var started = DateTimeOffset.UtcNow;

        // A client process waits for it and is killed (SIGKILL) once the task has made progress.
        await using (var waiter = ChildProcess.Start("dotnet", [CliProcess.Cli, "task", "wait", taskId, .. target], RepositoryPaths.Infra, _cli.Environment(environment)))
        {
            var store = new AsyncMcp.Aws.Tasks.DynamoDbTaskStore(dynalite.Dynamo, new AsyncMcp.Aws.Tasks.DynamoDbTaskStoreOptions { TableName = table });
            await Waiting.EventuallyAsync(async () => (await store.GetAsync(taskId))?.Progress is { Progress: >= 2 }, TimeSpan.FromSeconds(60), "The task's progress");
            Assert.False(waiter.HasExited, waiter.Output);
            waiter.Kill();
            Assert.DoesNotContain("Long running operation completed", waiter.Output, StringComparison.Ordinal);
        }

        // A new process, knowing only the id, waits for the end and gets the result.
        var (waitExit, waitOutput) = await _cli.RunAsync(["task", "wait", taskId, .. target, "--json"], environment);
        Assert.True(waitExit == 0, waitOutput + serve.Output);
        Assert.StartsWith("Long running operation completed", (string?)CliProcess.LastJsonLine(waitOutput)["content"]![0]!["text"], StringComparison.Ordinal);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(55), "the task ended before its 60 s");
    }

    [Fact]
    public async Task A_cancelled_task_and_an_unknown_id_each_end_the_wait_with_a_clear_line_and_exit_code_1()
    {
        var (target, environment) = await TargetAsync();
        await using var serve = await _cli.StartServeAsync([.. ServeOptions(target), "--task-tool", LongTool], environment);
        Assert.Contains("tasks are kept in memory", serve.Output, StringComparison.Ordinal);

        var (startExit, startOutput) = await _cli.RunAsync(["call", .. target, "--tool", LongTool, "--arg", "duration=60", "--arg", "steps=60", "--task"], environment);
        Assert.True(startExit == 0, startOutput + serve.Output);
        var taskId = CliProcess.Lines(startOutput).First(l => !l.StartsWith("asyncmcp", StringComparison.Ordinal)).Trim();

        var (cancelExit, cancelOutput) = await _cli.RunAsync(["task", "cancel", taskId, .. target], environment);
        Assert.True(cancelExit == 0, cancelOutput + serve.Output);
        Assert.Contains("cancel requested", cancelOutput, StringComparison.Ordinal);

        var (waitExit, _, waitError) = await _cli.RunSeparatedAsync(["task", "wait", taskId, .. target], environment);
        Assert.Equal(1, waitExit);
        Assert.Contains($"task {taskId} was cancelled", waitError, StringComparison.Ordinal);

        // A task is bound to the client id that started it (by default, one per user and machine): another id does not see it.
        var (otherExit, _, otherError) = await _cli.RunSeparatedAsync(["task", "get", taskId, .. target, "--client-id", "someone-else"], environment);
        Assert.Equal(1, otherExit);
        Assert.Contains($"has no task '{taskId}'", otherError, StringComparison.Ordinal);

        foreach (var verb in new[] { "get", "wait", "cancel" })
        {
            var (exit, _, error) = await _cli.RunSeparatedAsync(["task", verb, "no-such-task", .. target], environment);
            Assert.Equal(1, exit);
            Assert.Contains("has no task 'no-such-task'", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_the_extension_a_task_tool_answers_as_an_ordinary_call()
    {
        var (target, environment) = await TargetAsync();
        await using var serve = await _cli.StartServeAsync([.. ServeOptions(target), "--task-tool", LongTool], environment);

        // An older revision has no tasks: the call runs as before and prints its result.
        var (oldExit, oldOutput) = await _cli.RunAsync(["call", .. target, "--tool", LongTool, "--arg", "duration=1", "--arg", "steps=2", "--protocol-version", "2025-11-25"], environment);
        Assert.True(oldExit == 0, oldOutput + serve.Output);
        Assert.Contains("Long running operation completed", oldOutput, StringComparison.Ordinal);

        // A current client that does not ask for a task, and a tool not named: ordinary results too.
        var (plainExit, plainOutput) = await _cli.RunAsync(["call", .. target, "--tool", LongTool, "--arg", "duration=1", "--arg", "steps=2", "--json"], environment);
        Assert.True(plainExit == 0, plainOutput + serve.Output);
        Assert.Null(CliProcess.LastJsonLine(plainOutput)["taskId"]);
        var (echoExit, echoOutput) = await _cli.RunAsync(["call", .. target, "--tool", "echo", "--arg", "message=hi", "--task", "--json"], environment);
        Assert.True(echoExit == 0, echoOutput + serve.Output);
        Assert.Equal("Echo: hi", (string?)CliProcess.LastJsonLine(echoOutput)["content"]![0]!["text"]);

        // Asking for a task on an older revision is a usage error that says what to do.
        var (usageExit, _, usageError) = await _cli.RunSeparatedAsync(["call", .. target, "--tool", LongTool, "--task", "--protocol-version", "2025-11-25"], environment);
        Assert.Equal(2, usageExit);
        Assert.Contains("--task needs protocol revision 2026-07-28", usageError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_task_tool_the_server_does_not_have_a_task_queue_without_a_table_and_a_missing_table()
    {
        var (target, environment) = await TargetAsync();
        var (exit, _, error) = await _cli.RunSeparatedAsync(["serve", .. ServeOptions(target), "--task-tool", "no-such-tool", "--", RepositoryPaths.Node, CliProcess.Everything], environment);
        Assert.Equal(2, exit);
        Assert.Contains("--task-tool 'no-such-tool' is not a tool of the MCP server", error, StringComparison.Ordinal);

        var (queueExit, _, queueError) = await _cli.RunSeparatedAsync(["serve", .. ServeOptions(target), "--task-tool", LongTool, "--task-queue", "some-queue", "--", RepositoryPaths.Node, CliProcess.Everything], environment);
        Assert.Equal(2, queueExit);
        Assert.Contains("--task-queue needs --task-table", queueError, StringComparison.Ordinal);

        var (tableExit, _, tableError) = await _cli.RunSeparatedAsync(["serve", .. ServeOptions(target), "--task-tool", LongTool, "--task-table", "no-such-table", "--", RepositoryPaths.Node, CliProcess.Everything], environment);
        Assert.Equal(1, tableExit);
        Assert.Contains("the task table 'no-such-table' does not exist", tableError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_creates_the_task_table_and_queue_again_and_again_and_the_policy_names_them()
    {
        var table = DynaliteEmulator.UniqueTableName("cli-prov");
        var queue = FauxqsEmulator.UniqueName("cli-prov-tasks");
        var environment = new Dictionary<string, string> { ["AWS_ENDPOINT_URL_DYNAMODB"] = dynalite.Emulator.ServiceUrl };
        JsonNode? first = null;
        for (var run = 0; run < 2; run++)
        {
            var (exit, output) = await _cli.RunAsync(["provision", "--task-table", table, "--task-queue", queue, "--print-iam-policy"], environment);
            Assert.True(exit == 0, output);
            var printed = CliProcess.JsonDocumentIn(output);
            first ??= printed;

            // The same table and queue each time: what exists is kept.
            Assert.Equal((string?)first["tables"]![table]!["arn"], (string?)printed["tables"]![table]!["arn"]);
            Assert.Equal((string?)first["queues"]![queue]!["url"], (string?)printed["queues"]![queue]!["url"]);
            Assert.NotNull((string?)printed["queues"]![queue]!["deadLetterQueueUrl"]);

            var server = printed["iamPolicy"]!["server"]!["Statement"]!.AsArray();
            var onTable = server.Where(s => (string?)s!["Resource"] == (string?)printed["tables"]![table]!["arn"]).SelectMany(s => s!["Action"]!.AsArray().Select(a => (string)a!)).ToList();
            Assert.Equal(new[] { "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem" }, onTable.Order());
            var onQueue = server.Where(s => (string?)s!["Resource"] == (string?)printed["queues"]![queue]!["arn"]).SelectMany(s => s!["Action"]!.AsArray().Select(a => (string)a!)).ToList();
            Assert.Contains("sqs:ReceiveMessage", onQueue);
            Assert.Contains("sqs:SendMessage", onQueue);
            Assert.Null(printed["iamPolicy"]!["client"]);
        }

        // The table is there, with TTL on the attribute the store expires tasks by.
        var ttl = await dynalite.Dynamo.DescribeTimeToLiveAsync(table, TestContext.Current.CancellationToken);
        Assert.Equal("expiresAt", ttl.TimeToLiveDescription.AttributeName);
        var (bad, _, badError) = await _cli.RunSeparatedAsync(["provision", "--task-table", "x"], environment);
        Assert.Equal(2, bad);
        Assert.Contains("--task-table must be a DynamoDB table name", badError, StringComparison.Ordinal);
    }

    /// <summary>A request queue of the test's own, one response queue name for every client process, and dynalite for DynamoDB.</summary>
    private async Task<(string[] Target, Dictionary<string, string> Environment)> TargetAsync()
    {
        var requestQueue = await emulator.CreateQueueAsync("cli-task-req");
        string[] target = ["--request-queue", requestQueue, "--response-queue", FauxqsEmulator.UniqueName("cli-task-resp")];
        return (target, new Dictionary<string, string> { ["AWS_ENDPOINT_URL_DYNAMODB"] = dynalite.Emulator.ServiceUrl });
    }

    private static string[] ServeOptions(string[] target) => [target[0], target[1]];
}
