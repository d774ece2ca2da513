using System.Text.Json;
using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests.Tasks;

/// <summary>
/// The client API against a real peer: a wire fake of a server implementing the Tasks extension (wire/tasks-server.mjs),
/// run over stdio by the SDK's own transport. The fake keeps its tasks in a folder, so a second server process answers
/// for tasks the first one created, as a durable server's workers do.
/// </summary>
public sealed class McpClientTasksTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("asyncmcp-tasks-");

    public McpClientTasksTests() => RepositoryPaths.EnsureInfrastructureInstalled();

    public void Dispose() => _state.Delete(recursive: true);

    [Fact]
    public async Task A_tool_that_answers_at_once_gives_its_result_and_no_task()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, deadline.Token);

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.False(outcome.IsTask);
        Assert.Null(outcome.TaskId);
        Assert.Equal("Hello, Ada!", TextOf(outcome.Result));
    }

    [Fact]
    public async Task A_task_is_created_read_and_waited_for_with_its_progress()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("slow_compute", new Dictionary<string, object?> { ["label"] = "pi", ["steps"] = 4, ["stepMs"] = 150 }, deadline.Token);

        Assert.True(outcome.IsTask);
        Assert.Equal("task", outcome.Task.ResultType);
        Assert.Equal(McpTaskStatus.Working, outcome.Task.Status);
        Assert.Equal(TimeSpan.FromMinutes(5), outcome.Task.TimeToLive);
        Assert.Equal(TimeSpan.FromMilliseconds(50), outcome.Task.PollInterval);
        Assert.True(outcome.TaskId.Length >= 22, outcome.TaskId);

        var state = await client.GetTaskAsync(outcome.TaskId, deadline.Token);
        Assert.Equal(outcome.TaskId, state.TaskId);
        Assert.Equal(McpTaskStatus.Working, state.Status);

        var reports = new List<DetailedTask>();
        var result = await client.WaitForTaskAsync(outcome.TaskId, new ReportingProgress(reports.Add), cancellationToken: deadline.Token);

        Assert.Equal("Computed pi in 4 steps.", TextOf(result));
        Assert.Contains(reports, r => r.Status == McpTaskStatus.Working && r.StatusMessage?.StartsWith("step ", StringComparison.Ordinal) == true);
        Assert.Equal(McpTaskStatus.Completed, reports[^1].Status);
        Assert.All(reports[..^1], r => Assert.Equal(McpTaskStatus.Working, r.Status));
        Assert.Equal(reports.Count, reports.Select(r => (r.StatusMessage, r.LastUpdatedAt)).Distinct().Count());
    }

    [Fact]
    public async Task A_failed_task_ends_the_wait_with_the_servers_error()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("failing_job", cancellationToken: deadline.Token);
        var error = await Assert.ThrowsAsync<McpTaskFailedException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));

        Assert.Equal(outcome.TaskId, error.TaskId);
        Assert.Equal(McpErrorCode.InternalError, error.ErrorCode);
        Assert.Equal("upstream refused", error.Error.Message);
        Assert.Equal("Tool execution failed: upstream refused", error.StatusMessage);
        Assert.Contains("upstream refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_wait_answers_an_input_request_once_through_the_clients_elicitation_handler()
    {
        using var deadline = Within(s_deadline);
        var asked = new List<string>();
        await using var client = await ConnectAsync(deadline.Token, new McpClientOptions
        {
            Capabilities = new() { Elicitation = new() { Form = new() } },
            Handlers = new()
            {
                ElicitationHandler = (request, _) =>
                {
                    lock (asked)
                    {
                        asked.Add(request!.Message);
                    }

                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["confirm"] = JsonSerializer.SerializeToElement(true) } });
                },
            },
        });

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", new Dictionary<string, object?> { ["filename"] = "report.txt" }, deadline.Token);
        var reports = new List<DetailedTask>();
        var result = await client.WaitForTaskAsync(outcome.TaskId!, new ReportingProgress(reports.Add), cancellationToken: deadline.Token);

        Assert.Equal("Deleted report.txt.", TextOf(result));
        Assert.Equal(["Delete report.txt?"], asked);
        Assert.Contains(reports, r => r.Status == McpTaskStatus.InputRequired && r.InputRequests!.ContainsKey("confirm"));
    }

    [Fact]
    public async Task An_input_request_is_answered_with_UpdateTaskAsync()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("confirm_delete", new Dictionary<string, object?> { ["filename"] = "keep.txt" }, deadline.Token);
        DetailedTask? waiting = null;
        await EventuallyAsync(async () => (waiting = await client.GetTaskAsync(outcome.TaskId!, deadline.Token)).Status == McpTaskStatus.InputRequired, s_deadline, "input_required");

        var request = Assert.Single(waiting!.InputRequests!);
        Assert.Equal("elicitation/create", request.Value.Method);
        await client.UpdateTaskAsync(
            outcome.TaskId!,
            new Dictionary<string, InputResponse>
            {
                [request.Key] = InputResponse.FromElicitResult(new ElicitResult { Action = "decline" }),
                ["never-asked"] = InputResponse.FromElicitResult(new ElicitResult { Action = "accept" }),
            },
            deadline.Token);
        var result = await client.WaitForTaskAsync(outcome.TaskId!, options: new() { ResolveInputRequests = false }, cancellationToken: deadline.Token);

        Assert.Equal("Kept keep.txt.", TextOf(result));
    }

    [Fact]
    public async Task A_cancelled_task_ends_cancelled_and_cancelling_it_again_is_acknowledged()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("slow_compute", new Dictionary<string, object?> { ["steps"] = 600, ["stepMs"] = 100 }, deadline.Token);
        await client.CancelTaskAsync(outcome.TaskId!, deadline.Token);

        var error = await Assert.ThrowsAsync<McpTaskCancelledException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));
        Assert.Equal(outcome.TaskId, error.TaskId);
        Assert.Equal("Cancelled by the client", error.StatusMessage);
        Assert.Equal(McpTaskStatus.Cancelled, (await client.GetTaskAsync(outcome.TaskId!, deadline.Token)).Status);
        await client.CancelTaskAsync(outcome.TaskId!, deadline.Token);
    }

    [Fact]
    public async Task A_client_that_does_not_declare_the_extension_gets_an_ordinary_result_or_a_missing_capability_error()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var result = await client.CallToolAsync("slow_compute", new Dictionary<string, object?> { ["label"] = "e", ["steps"] = 2, ["stepMs"] = 50 }, cancellationToken: deadline.Token);
        Assert.Equal("Computed e in 2 steps.", TextOf(result));
        Assert.Empty(_state.GetFiles());

        var error = await Assert.ThrowsAsync<MissingRequiredClientCapabilityException>(async () => await client.CallToolAsync("failing_job", cancellationToken: deadline.Token));
        Assert.True(McpTasks.IsDeclaredBy(error.RequiredCapabilities));
    }

    [Fact]
    public async Task A_task_is_resumed_by_its_id_from_a_new_client_on_a_new_connection()
    {
        using var deadline = Within(s_deadline);
        string taskId;
        await using (var first = await ConnectAsync(deadline.Token))
        {
            taskId = (await first.CallToolAsTaskAsync("slow_compute", new Dictionary<string, object?> { ["label"] = "later", ["steps"] = 3, ["stepMs"] = 150 }, deadline.Token)).TaskId!;
        }

        // Nothing but the id crosses over: a new client, a new server process, a new connection.
        await using var second = await ConnectAsync(deadline.Token);
        var result = await second.WaitForTaskAsync(taskId, cancellationToken: deadline.Token);

        Assert.Equal("Computed later in 3 steps.", TextOf(result));
        Assert.Equal(McpTaskStatus.Completed, (await second.GetTaskAsync(taskId, deadline.Token)).Status);
    }

    [Fact]
    public async Task An_unknown_task_id_is_refused_with_the_servers_error_by_every_method()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);
        const string unknown = "AAAAAAAAAAAAAAAAAAAAAA";

        Func<Task>[] calls =
        [
            async () => await client.GetTaskAsync(unknown, deadline.Token),
            async () => await client.WaitForTaskAsync(unknown, cancellationToken: deadline.Token),
            async () => await client.UpdateTaskAsync(unknown, new Dictionary<string, InputResponse>(), deadline.Token),
            async () => await client.CancelTaskAsync(unknown, deadline.Token),
        ];
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(call);
            Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
            Assert.Contains("Task not found", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_malformed_task_state_fails_the_wait_with_a_clear_error_instead_of_polling_on()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var outcome = await client.CallToolAsTaskAsync("malformed_task", cancellationToken: deadline.Token);
        var error = await Assert.ThrowsAsync<McpException>(async () => await client.WaitForTaskAsync(outcome.TaskId!, cancellationToken: deadline.Token));

        Assert.Contains($"tasks/get for task '{outcome.TaskId}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(McpTasks.ExtensionId, error.Message, StringComparison.Ordinal);
        Assert.IsType<JsonException>(error.InnerException);
        Assert.False(deadline.IsCancellationRequested);
    }

    [Fact]
    public async Task A_malformed_task_handle_fails_the_call_with_a_clear_error()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var error = await Assert.ThrowsAsync<McpException>(async () => await client.CallToolAsTaskAsync("malformed_handle", cancellationToken: deadline.Token));

        Assert.Contains("tools/call 'malformed_handle'", error.Message, StringComparison.Ordinal);
        Assert.Contains("taskId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wait_ends_at_its_timeout_or_token_and_leaves_the_task_running()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);
        var taskId = (await client.CallToolAsTaskAsync("slow_compute", new Dictionary<string, object?> { ["steps"] = 600, ["stepMs"] = 100 }, deadline.Token)).TaskId!;

        var timedOut = await Assert.ThrowsAsync<TimeoutException>(async () => await client.WaitForTaskAsync(taskId, options: new() { Timeout = TimeSpan.FromMilliseconds(300) }, cancellationToken: deadline.Token));
        Assert.Contains("keeps running", timedOut.Message, StringComparison.Ordinal);

        using var caller = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        caller.CancelAfter(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.WaitForTaskAsync(taskId, cancellationToken: caller.Token));

        Assert.Equal(McpTaskStatus.Working, (await client.GetTaskAsync(taskId, deadline.Token)).Status);
        await client.CancelTaskAsync(taskId, deadline.Token);
    }

    [Fact]
    public async Task Wait_options_are_checked_before_anything_is_sent()
    {
        using var deadline = Within(s_deadline);
        await using var client = await ConnectAsync(deadline.Token);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await client.WaitForTaskAsync("x", options: new() { MinimumPollInterval = TimeSpan.Zero }, cancellationToken: deadline.Token));

        Assert.Contains("McpTaskWaitOptions.MinimumPollInterval", error.Message, StringComparison.Ordinal);
    }

    private async Task<McpClient> ConnectAsync(CancellationToken cancellationToken, McpClientOptions? options = null)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "tasks-fake",
            Command = RepositoryPaths.Node,
            Arguments = ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "tasks-server.mjs")],
            EnvironmentVariables = new Dictionary<string, string?> { ["TASKS_STATE_DIR"] = _state.FullName },
            WorkingDirectory = RepositoryPaths.Infra,
        });
        return await McpClient.CreateAsync(transport, options, cancellationToken: cancellationToken);
    }

    private static string? TextOf(CallToolResult? result) => Assert.IsType<TextContentBlock>(Assert.Single(result!.Content)).Text;

    /// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class ReportingProgress(Action<DetailedTask> report) : IProgress<DetailedTask>
    {
        public void Report(DetailedTask value) => report(value);
    }
}
