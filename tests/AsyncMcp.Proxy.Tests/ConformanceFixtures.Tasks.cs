using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The fixtures of the conformance suite's Tasks extension scenarios (<c>tasks-*</c>, 0.2.0-alpha.12), written from the
/// suite's requirement texts: a sync-only <c>greet</c>, task-capable <c>slow_compute</c>, <c>protocol_error_job</c>,
/// <c>confirm_delete</c> and <c>multi_input</c>, a <c>failing_job</c> that only runs as a task, and
/// <c>test_tool_with_task</c>, which asks for input with an <c>input_required</c> result first and then runs as a task.
/// </summary>
internal static partial class ConformanceFixtures
{
    /// <summary>How each fixture tool runs when the extension is on; the suite's scenarios depend on exactly this.</summary>
    public static McpTaskExecutionMode TaskExecutionMode(RequestContext<CallToolRequestParams> request) => request.Params?.Name switch
    {
        "slow_compute" or "protocol_error_job" or "confirm_delete" or "multi_input" => McpTaskExecutionMode.Optional,
        "failing_job" => McpTaskExecutionMode.Required,

        // The input_required round answers at once; the round that brings the answers becomes the task.
        "test_tool_with_task" => request.Params.InputResponses is { Count: > 0 } ? McpTaskExecutionMode.Required : McpTaskExecutionMode.Synchronous,
        _ => McpTaskExecutionMode.Synchronous,
    };

    private static McpTasksServerOptions CreateTaskOptions() => new()
    {
        Store = new InMemoryTaskStore(),

        // The suite polls every 200 ms; the interop clients honour the suggested interval, so it is as short.
        PollInterval = TimeSpan.FromMilliseconds(200),
        ExecutionModeSelector = TaskExecutionMode,
    };

    private static void AddTaskTools(McpServerPrimitiveCollection<McpServerTool> tools)
    {
        tools.Add(McpServerTool.Create((string name) => $"Hello, {name}!", new() { Name = "greet", Description = "Greets at once; never a task." }));
        tools.Add(McpServerTool.Create(
            async (int seconds, string? label, CancellationToken ct) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
                return $"{label ?? "slow_compute"}: computed in {seconds} s";
            },
            new() { Name = "slow_compute", Description = "Sleeps for the given seconds, then answers; a task when the client takes one." }));
        tools.Add(McpServerTool.Create(
            async (CancellationToken ct) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "The job failed after 1 s." }] };
            },
            new() { Name = "failing_job", Description = "Runs only as a task, and reports a tool error after about a second." }));
        tools.Add(McpServerTool.Create(
            string () => throw new McpProtocolException("The job hit a protocol-level error.", McpErrorCode.InternalError),
            new() { Name = "protocol_error_job", Description = "Fails with a JSON-RPC error (a task ends failed)." }));
        tools.Add(McpServerTool.Create(
            async (McpServer server, string filename, CancellationToken ct) =>
            {
                var answer = await server.ElicitAsync(AskBoolean($"Delete {filename}?", "confirm"), ct);
                return answer.IsAccepted && answer.Content?.TryGetValue("confirm", out var confirm) == true && confirm.ValueKind == System.Text.Json.JsonValueKind.True ? $"Deleted {filename}." : $"Kept {filename}.";
            },
            new() { Name = "confirm_delete", Description = "Asks the user to confirm, then deletes (pretends to)." }));
        tools.Add(McpServerTool.Create(
            async (McpServer server, CancellationToken ct) =>
            {
                // Both questions at once: a task shows two input requests side by side.
                var name = server.ElicitAsync(AskText("What is your name?", "name"), ct).AsTask();
                var confirm = server.ElicitAsync(AskBoolean("Shall I go on?", "confirm"), ct).AsTask();
                await Task.WhenAll(name, confirm);
                return $"name={Field(await name, "name")}, confirm={Field(await confirm, "confirm")}";
            },
            new() { Name = "multi_input", Description = "Asks two questions at the same time." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var answer = Answer(context.Params, "user_name") ?? throw Ask(null, ("user_name", AskName("Who is this task for?")));
                return $"Task done for {Field(Elicited(answer), "name")}.";
            },
            new() { Name = "test_tool_with_task", Description = "Asks for a name with an input_required result, then runs as a task." }));
    }

    private static ElicitRequestParams AskBoolean(string message, string field) => new()
    {
        Message = message,
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { [field] = new ElicitRequestParams.BooleanSchema() },
            Required = [field],
        },
    };

    private static ElicitRequestParams AskText(string message, string field) => new()
    {
        Message = message,
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { [field] = new ElicitRequestParams.StringSchema() },
            Required = [field],
        },
    };
}
