using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Tasks;
using AsyncMcp.Testing;
using AsyncMcp.Wire;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Core.Tests.Tasks;

/// <summary>
/// The server runtime of the Tasks extension in a real AsyncMcp server (<see cref="McpQueueServer"/> on the in-memory
/// broker, the SDK's McpServer behind it) with the in-memory task store, driven by our own client API over the core's
/// client session transport.
/// </summary>
public sealed class TaskServerRuntimeTests : IAsyncDisposable
{
    private const string ServerAddress = "memory://tasks-server";
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);
    private static readonly ReplyAddressConvention s_convention = new("replyTo", null);

    private readonly InMemoryBroker _broker = new();
    private readonly InMemoryTaskStore _store = new();
    private readonly McpQueueServer _server;
    private readonly McpTaskWorker _worker;
    private int _confirmRuns;
    private readonly TaskCompletionSource _slowCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskServerRuntimeTests()
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "tasks-runtime-test", Version = "1.0.0" },
            ToolCollection =
            [
                McpServerTool.Create(
                    [Description("Runs steps × delayMs, reporting progress after each step.")]
                    async (int steps, int delayMs, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken) =>
                    {
                        try
                        {
                            for (var step = 1; step <= steps; step++)
                            {
                                await Task.Delay(delayMs, cancellationToken);
                                progress.Report(new ProgressNotificationValue { Progress = step, Total = steps, Message = $"step {step} of {steps}" });
                            }
                        }
                        catch (OperationCanceledException)
                        {
                            _slowCancelled.TrySetResult();
                            throw;
                        }

                        return $"done after {steps} steps";
                    },
                    new() { Name = "slow" }),
                McpServerTool.Create(
                    [Description("Fails with a JSON-RPC error.")] string () => throw new McpProtocolException("upstream refused", McpErrorCode.InternalError),
                    new() { Name = "protocol_error_job" }),
                McpServerTool.Create(
                    [Description("Greets.")] (string name) => $"Hello, {name}!",
                    new() { Name = "greet" }),
                McpServerTool.Create(
                    [Description("Asks the client twice, then reports both answers.")]
                    async (McpServer server, CancellationToken cancellationToken) =>
                    {
                        Interlocked.Increment(ref _confirmRuns);
                        var first = await server.ElicitAsync(NameQuestion("Which file?"), cancellationToken);
                        var second = await server.ElicitAsync(NameQuestion("Really delete it?"), cancellationToken);
                        return $"{first.Action}:{first.Content?["name"]} then {second.Action}:{second.Content?["name"]}";
                    },
                    new() { Name = "confirm_delete" }),
            ],
        };
        var tasks = new McpTasksServerOptions { Store = _store, DefaultTimeToLive = TimeSpan.FromMinutes(10), PollInterval = TimeSpan.FromMilliseconds(20) };
        tasks.TaskTools.Add("slow");
        tasks.TaskTools.Add("protocol_error_job");
        tasks.TaskTools.Add("confirm_delete");
        _worker = options.AddTasks(tasks);

        _server = new McpQueueServer(_broker.Queue(ServerAddress), _broker, s_convention, new ServerOptions(), 10, options, deadLetters: false, "memory");
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _worker.DisposeAsync();
    }

    [Fact]
    public async Task A_declaring_client_gets_a_task_it_reads_at_once_and_waits_for_with_progress()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("alice", deadline.Token);

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.True(client.ServerCapabilities.Extensions?.ContainsKey(McpTasks.ExtensionId));

        var outcome = await client.CallToolAsTaskAsync("slow", new Dictionary<string, object?> { ["steps"] = 5, ["delayMs"] = 100 }, deadline.Token);

        Assert.True(outcome.IsTask);
        Assert.Equal(McpTaskStatus.Working, outcome.Task.Status);
        Assert.Equal(TimeSpan.FromMinutes(10), outcome.Task.TimeToLive);
        Assert.Equal(TimeSpan.FromMilliseconds(20), outcome.Task.PollInterval);
        Assert.Equal(TaskIds.Length, outcome.TaskId.Length);

        var state = await client.GetTaskAsync(outcome.TaskId, deadline.Token);
        Assert.Equal(outcome.TaskId, state.TaskId);
        Assert.False(state.Status.IsTerminal());

        var reports = new List<DetailedTask>();
        var result = await client.WaitForTaskAsync(outcome.TaskId, new ReportingProgress(reports.Add), cancellationToken: deadline.Token);

        Assert.Equal("done after 5 steps", TextOf(result));
        Assert.Contains(reports, r => r.Status == McpTaskStatus.Working && r.StatusMessage?.StartsWith("step ", StringComparison.Ordinal) == true);
        Assert.Equal(McpTaskStatus.Completed, reports[^1].Status);

        var record = await _store.GetAsync(outcome.TaskId, deadline.Token);
        Assert.Equal("client:alice", record!.OwnerId);
        Assert.Equal("slow", record.ToolCall.Name);
        Assert.Equal(5, record.Progress!.Total);
        Assert.Equal("complete", record.Result!.Value.GetProperty("resultType").GetString());
    }

    [Fact]
    public async Task A_client_that_does_not_declare_the_extension_gets_an_ordinary_result()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("bob", deadline.Token);

        var result = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 2, ["delayMs"] = 10 }, cancellationToken: deadline.Token);

        Assert.Equal("done after 2 steps", TextOf(result));
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task A_tool_that_is_not_opted_in_answers_at_once_even_to_a_declaring_client()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("carol", deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, deadline.Token);

        Assert.False(outcome.IsTask);
        Assert.Equal("Hello, Ada!", TextOf(outcome.Result));
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task A_cancelled_task_stops_its_tool_and_ends_cancelled()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("dave", deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("slow", new Dictionary<string, object?> { ["steps"] = 10_000, ["delayMs"] = 50 }, deadline.Token);

        // Once it runs (a task cancelled before it starts never runs its tool at all).
        await Waiting.EventuallyAsync(async () => (await _store.GetAsync(outcome.TaskId!, deadline.Token))!.Progress is not null, what: "The task's first progress");
        await client.CancelTaskAsync(outcome.TaskId!, deadline.Token);

        var error = await Assert.ThrowsAsync<McpTaskCancelledException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));
        Assert.Equal(outcome.TaskId, error.TaskId);
        await _slowCancelled.Task.WaitAsync(deadline.Token);

        // Cancelling a task that already ended is acknowledged and changes nothing.
        await client.CancelTaskAsync(outcome.TaskId!, deadline.Token);
        Assert.Equal(McpTaskStatus.Cancelled, (await client.GetTaskAsync(outcome.TaskId!, deadline.Token)).Status);
    }

    [Fact]
    public async Task A_json_rpc_error_of_the_tool_fails_the_task_with_that_error()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("erin", deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("protocol_error_job", cancellationToken: deadline.Token);
        var error = await Assert.ThrowsAsync<McpTaskFailedException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));

        Assert.Equal(McpErrorCode.InternalError, error.ErrorCode);
        Assert.Equal("upstream refused", error.Error.Message);
    }

    [Fact]
    public async Task The_same_client_reads_its_task_from_a_new_connection_and_another_client_cannot()
    {
        using var deadline = Within(s_deadline);
        string taskId;
        await using (var first = await ConnectAsync("frank", deadline.Token))
        {
            var outcome = await first.CallToolAsTaskAsync("slow", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 50 }, deadline.Token);
            taskId = outcome.TaskId!;
        }

        await using var again = await ConnectAsync("frank", deadline.Token);
        Assert.Equal("done after 3 steps", TextOf(await again.WaitForTaskAsync(taskId, cancellationToken: deadline.Token)));

        await using var stranger = await ConnectAsync("mallory", deadline.Token);
        var refused = await Assert.ThrowsAsync<McpProtocolException>(async () => await stranger.GetTaskAsync(taskId, deadline.Token));
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        refused = await Assert.ThrowsAsync<McpProtocolException>(async () => await stranger.CancelTaskAsync(taskId, deadline.Token));
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
    }

    [Fact]
    public async Task An_unknown_task_id_is_invalid_params()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("grace", deadline.Token);

        foreach (var id in new[] { TaskIds.NewId(), "gate-test", new string('x', 300) })
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetTaskAsync(id, deadline.Token));
            Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
            refused = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.UpdateTaskAsync(id, new Dictionary<string, InputResponse>(), deadline.Token));
            Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        }
    }

    [Fact]
    public async Task Tasks_requests_without_the_declaration_are_refused_with_missing_capability()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("heidi", deadline.Token);

        foreach (var method in new[] { McpTasks.GetMethod, McpTasks.UpdateMethod, McpTasks.CancelMethod })
        {
            var refused = await Assert.ThrowsAnyAsync<McpProtocolException>(async () => await client.SendRequestAsync(
                new JsonRpcRequest { Method = method, Params = new JsonObject { ["taskId"] = "gate-test", ["inputResponses"] = new JsonObject() } },
                deadline.Token));
            Assert.Equal(McpErrorCode.MissingRequiredClientCapability, refused.ErrorCode);
        }

        // The server keeps serving.
        Assert.Equal("Hello, Ada!", TextOf(await client.CallToolAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: deadline.Token)));
    }

    [Fact]
    public async Task A_task_that_asks_for_input_waits_in_input_required_and_resumes_on_tasks_update()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("ivan", deadline.Token, elicitation: true);

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", cancellationToken: deadline.Token);
        Assert.True(outcome.IsTask);

        // The first question is recorded under input-1 as the extension's request object.
        var waiting = await WaitForStatusAsync(client, outcome.TaskId!, McpTaskStatus.InputRequired, deadline.Token);
        var request = Assert.Single(waiting.InputRequests!);
        Assert.Equal("input-1", request.Key);
        Assert.Equal("elicitation/create", request.Value.Method);

        await client.UpdateTaskAsync(outcome.TaskId!, new Dictionary<string, InputResponse> { ["input-1"] = Accepted("notes.txt") }, deadline.Token);

        // The second question comes under the next key once the first answer resumed the run.
        waiting = await WaitForStatusAsync(client, outcome.TaskId!, McpTaskStatus.InputRequired, deadline.Token, key: "input-2");
        await client.UpdateTaskAsync(outcome.TaskId!, new Dictionary<string, InputResponse> { ["input-2"] = Accepted("yes") }, deadline.Token);

        var result = await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token);
        Assert.Equal("accept:notes.txt then accept:yes", TextOf(result));
        Assert.Equal(1, Volatile.Read(ref _confirmRuns));
    }

    [Fact]
    public async Task Waiting_for_a_task_answers_its_input_requests_through_the_clients_own_handler()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("judy", deadline.Token, elicitation: true);

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", cancellationToken: deadline.Token);
        var result = await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token);

        Assert.Equal("accept:Ada then accept:Ada", TextOf(result));
    }

    [Fact]
    public async Task A_task_whose_client_did_not_declare_elicitation_cannot_ask_and_fails_clearly()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("kim", deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", cancellationToken: deadline.Token);
        var result = await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token);

        // The SDK refuses the elicitation the client cannot answer; the tool's exception becomes an error result.
        Assert.True(result.IsError);
        Assert.Null((await client.GetTaskAsync(outcome.TaskId!, deadline.Token)).InputRequests);
    }

    [Fact]
    public async Task A_task_waiting_for_input_can_be_cancelled()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync("liam", deadline.Token, elicitation: true);

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", cancellationToken: deadline.Token);
        await WaitForStatusAsync(client, outcome.TaskId!, McpTaskStatus.InputRequired, deadline.Token);
        await client.CancelTaskAsync(outcome.TaskId!, deadline.Token);

        await Assert.ThrowsAsync<McpTaskCancelledException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));
        await Waiting.Eventually(() => _worker.RunningTasks == 0, what: "The worker ending the cancelled run");
    }

    private static async Task<DetailedTask> WaitForStatusAsync(McpClient client, string taskId, McpTaskStatus status, CancellationToken cancellationToken, string? key = null)
    {
        while (true)
        {
            var state = await client.GetTaskAsync(taskId, cancellationToken);
            if (state.Status == status && (key is null || state.InputRequests?.ContainsKey(key) == true))
            {
                return state;
            }

            Assert.False(state.Status.IsTerminal(), $"The task ended {state.Status} while waiting for {status}.");
            await Task.Delay(10, cancellationToken);
        }
    }

    private static InputResponse Accepted(string name) =>
        InputResponse.FromElicitResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement(name) } });

    private static ElicitRequestParams NameQuestion(string message) => new()
    {
        Message = message,
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["name"] = new ElicitRequestParams.StringSchema { Description = "An answer" } },
        },
    };

    private async Task<McpClient> ConnectAsync(string clientId, CancellationToken cancellationToken, bool elicitation = false) =>
        await McpClient.CreateAsync(
            new BrokerClientTransport(_broker, ServerAddress, s_convention, clientId),
            elicitation
                ? new McpClientOptions
                {
                    Handlers = new McpClientHandlers
                    {
                        ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
                    },
                }
                : null,
            cancellationToken: cancellationToken);

    private static string? TextOf(CallToolResult? result) => Assert.IsType<TextContentBlock>(Assert.Single(result!.Content)).Text;

    private sealed class ServerOptions : AsyncMcpServerTransportOptions;

    private sealed class ReportingProgress(Action<DetailedTask> report) : IProgress<DetailedTask>
    {
        public void Report(DetailedTask value) => report(value);
    }
}
