using System.Globalization;
using System.Text.Json;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Tasks;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Durable tasks end to end on the emulators: worker processes (the test server over SQS) share one request queue, one
/// DynamoDB task table and one SQS task queue; our SQS client creates, reads, answers and cancels tasks from whichever
/// worker its session is on; workers are killed with SIGKILL mid-task.
/// </summary>
public sealed class DurableTaskTests(EmulatorFixture fixture, DynaliteFixture dynalite)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_task_whose_worker_is_killed_is_finished_by_another_worker_and_recorded_once()
    {
        using var deadline = Within(s_deadline);
        var sideEffects = Path.Combine(Path.GetTempPath(), $"asyncmcp-side-effects-{Guid.NewGuid():N}.txt");
        try
        {
            await using var workers = await TaskWorkers.StartAsync(fixture, dynalite, count: 2, sideEffects: sideEffects);
            var clientId = "durable-" + Guid.NewGuid().ToString("N")[..8];
            string taskId;
            await using (var creator = await workers.ConnectAsync(clientId, deadline.Token))
            {
                var created = await creator.CallToolAsTaskAsync("long_job", new Dictionary<string, object?> { ["steps"] = 40, ["delayMs"] = 150 }, deadline.Token);
                Assert.True(created.IsTask);
                taskId = created.TaskId!;
            }

            // The creating client is gone; the task runs on one of the workers. Kill that one mid-way.
            var running = await workers.WaitForRunnerAsync(taskId, step: 3, deadline.Token);
            workers.Kill(running);

            await using var reader = await workers.ConnectAsync(clientId, deadline.Token);
            var reports = new List<DetailedTask>();
            var result = await reader.WaitForTaskAsync(taskId, new Reports(reports), new McpTaskWaitOptions { Timeout = TimeSpan.FromSeconds(90) }, deadline.Token);

            Assert.Equal("done after 40 steps", TextOf(result));
            var survivor = workers.ProcessIds.Single(pid => pid != running);
            Assert.Contains(reports, r => r.StatusMessage?.EndsWith($"on {survivor}", StringComparison.Ordinal) == true);

            // Run twice (at-least-once), finished once, by the survivor.
            var lines = (await File.ReadAllLinesAsync(sideEffects, deadline.Token)).Where(l => !l.StartsWith("tasks/", StringComparison.Ordinal)).ToArray();
            Assert.True(
                lines.SequenceEqual([$"start {running}", $"start {survivor}", $"end {survivor}"]),
                $"Side effects: {string.Join(" | ", lines)}\nHosts:\n{workers.Output}");
            var record = await workers.Store.GetAsync(taskId, deadline.Token);
            Assert.Equal(TaskRecordStatus.Completed, record!.Status);
            await Waiting.EventuallyAsync(async () => await fixture.CountUnsettledAsync(workers.TaskQueueUrl) == 0, what: "The task's work item deleted");
        }
        finally
        {
            File.Delete(sideEffects);
        }
    }

    [Fact]
    public async Task Every_worker_answers_for_a_task_and_a_cancel_through_any_of_them_stops_it()
    {
        using var deadline = Within(s_deadline);
        var sideEffects = Path.Combine(Path.GetTempPath(), $"asyncmcp-side-effects-{Guid.NewGuid():N}.txt");
        try
        {
            await using var workers = await TaskWorkers.StartAsync(fixture, dynalite, count: 2, sideEffects: sideEffects);
            var clientId = "both-" + Guid.NewGuid().ToString("N")[..8];
            await using var client = await workers.ConnectAsync(clientId, deadline.Token);
            {
                var created = await client.CallToolAsTaskAsync("long_job", new Dictionary<string, object?> { ["steps"] = 1000, ["delayMs"] = 100 }, deadline.Token);
                var running = await workers.WaitForRunnerAsync(created.TaskId!, step: 2, deadline.Token);

                // Requests of 2026-07-28 go to the shared queue: read until both workers answered tasks/get from the table.
                for (var read = 0; read < 100 && workers.ProcessIds.Any(pid => !File.ReadAllLines(sideEffects).Contains($"tasks/get {pid}")); read++)
                {
                    Assert.Equal(McpTaskStatus.Working, (await client.GetTaskAsync(created.TaskId!, deadline.Token)).Status);
                }

                Assert.All(workers.ProcessIds, pid => Assert.Contains($"tasks/get {pid}", File.ReadAllLines(sideEffects)));
                await client.CancelTaskAsync(created.TaskId!, deadline.Token);

                await Assert.ThrowsAsync<McpTaskCancelledException>(async () => await client.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token));
                await Waiting.EventuallyAsync(() => Task.FromResult(File.ReadAllLines(sideEffects).Contains($"cancelled {running}")), what: "The running tool cancelled");
            }
        }
        finally
        {
            File.Delete(sideEffects);
        }
    }

    [Fact]
    public async Task A_task_that_asks_for_input_waits_in_input_required_until_the_client_answers_through_tasks_update()
    {
        using var deadline = Within(s_deadline);
        await using var workers = await TaskWorkers.StartAsync(fixture, dynalite, count: 2);
        var clientId = "input-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await workers.ConnectAsync(clientId, deadline.Token, answerElicitation: true);

        var created = await client.CallToolAsTaskAsync("elicit", cancellationToken: deadline.Token);
        DetailedTask state;
        do
        {
            state = await client.GetTaskAsync(created.TaskId!, deadline.Token);
            await Task.Delay(20, deadline.Token);
        }
        while (state.Status == McpTaskStatus.Working);

        Assert.Equal(McpTaskStatus.InputRequired, state.Status);
        Assert.Equal("elicitation/create", Assert.Single(state.InputRequests!).Value.Method);

        // WaitForTaskAsync answers through the client's own elicitation handler and tasks/update.
        var result = await client.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token);
        Assert.Contains("Ada", TextOf(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_task_and_its_result_expire_after_their_time_to_live()
    {
        using var deadline = Within(s_deadline);
        await using var workers = await TaskWorkers.StartAsync(fixture, dynalite, count: 1, ttlSeconds: 4);
        var clientId = "ttl-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await workers.ConnectAsync(clientId, deadline.Token);

        var created = await client.CallToolAsTaskAsync("long_job", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 10 }, deadline.Token);
        Assert.Equal(TimeSpan.FromSeconds(4), created.Task!.TimeToLive);
        Assert.Equal("done after 1 steps", TextOf(await client.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token)));

        await Waiting.EventuallyAsync(
            async () =>
            {
                try
                {
                    await client.GetTaskAsync(created.TaskId!, deadline.Token);
                    return false;
                }
                catch (McpProtocolException expired) when (expired.ErrorCode == McpErrorCode.InvalidParams)
                {
                    return true;
                }
            },
            TimeSpan.FromSeconds(30),
            "The expired task answered as unknown");
        Assert.Null(await workers.Store.GetAsync(created.TaskId!, deadline.Token));
    }

    [Fact]
    public async Task The_sqs_work_queue_leases_renews_and_hands_back_items_and_drops_messages_that_are_not_work_items()
    {
        var ct = TestContext.Current.CancellationToken;
        var queueUrl = await fixture.CreateQueueAsync("tasks-work");
        var queue = new SqsTaskWorkQueue(fixture.Sqs, queueUrl);
        await fixture.Sqs.SendMessageAsync(queueUrl, "{not json", ct);
        await fixture.Sqs.SendMessageAsync(queueUrl, "{\"taskId\":\"\"}", ct);
        await queue.EnqueueAsync("task-1", ct);

        var received = new List<TaskWorkItem>();
        while (received.Count == 0)
        {
            received.AddRange(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), ct));
        }

        var item = Assert.Single(received);
        Assert.Equal(("task-1", 1), (item.TaskId, item.DeliveryCount));
        await queue.RenewAsync(item, TimeSpan.FromSeconds(30), ct);

        // Handed back: visible at once, delivered a second time.
        await queue.ReleaseAsync(item, ct);
        var again = Assert.Single(await queue.ReceiveAsync(10, TimeSpan.FromSeconds(30), ct));
        Assert.Equal(("task-1", 2), (again.TaskId, again.DeliveryCount));

        await queue.CompleteAsync(again, ct);
        Assert.Equal(0, await fixture.CountUnsettledAsync(queueUrl));
        Assert.Throws<ArgumentException>(() => new SqsTaskWorkQueue(fixture.Sqs, "not a url"));
    }

    private static string TextOf(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static CancellationTokenSource Within(TimeSpan deadline)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(deadline);
        return source;
    }

    private sealed class Reports(List<DetailedTask> reports) : IProgress<DetailedTask>
    {
        public void Report(DetailedTask value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    /// <summary>Worker processes sharing a request queue, a task table and a task queue; each stopped by its process id.</summary>
    private sealed class TaskWorkers : IAsyncDisposable
    {
        private readonly EmulatorFixture _fixture;
        private readonly string _requestQueueUrl;
        private readonly Dictionary<string, ChildProcess> _byWorkerId;

        private TaskWorkers(EmulatorFixture fixture, string requestQueueUrl, string taskQueueUrl, DynamoDbTaskStore store, Dictionary<string, ChildProcess> byWorkerId)
        {
            _fixture = fixture;
            _requestQueueUrl = requestQueueUrl;
            TaskQueueUrl = taskQueueUrl;
            Store = store;
            _byWorkerId = byWorkerId;
        }

        public string TaskQueueUrl { get; }

        public DynamoDbTaskStore Store { get; }

        public IEnumerable<int> ProcessIds => _byWorkerId.Values.Select(p => p.ProcessId);

        public string Output => string.Join("\n", _byWorkerId.Values.Select(p => $"[{p.ProcessId}] {p.Output}"));

        public static async Task<TaskWorkers> StartAsync(EmulatorFixture fixture, DynaliteFixture dynalite, int count, int ttlSeconds = 3600, string? sideEffects = null)
        {
            var requestQueueUrl = await fixture.CreateQueueAsync("tasks-req");
            var taskQueueUrl = await fixture.CreateQueueAsync("tasks-work");
            var table = await dynalite.CreateTaskTableAsync();
            var started = new Dictionary<string, ChildProcess>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    List<string> arguments =
                    [
                        Path.Combine(AppContext.BaseDirectory, "AsyncMcp.TestServerHost.dll"), "--service-url", fixture.Emulator.ServiceUrl, "--queue-url", requestQueueUrl,
                        "--visibility-seconds", "5", "--wait-seconds", "1",
                        "--dynamodb-url", dynalite.Emulator.ServiceUrl, "--task-table", table, "--task-queue-url", taskQueueUrl,
                        "--task-lease-seconds", "6", "--task-ttl-seconds", ttlSeconds.ToString(CultureInfo.InvariantCulture),
                    ];
                    if (sideEffects is not null)
                    {
                        arguments.AddRange(["--side-effects", sideEffects]);
                    }

                    var host = ChildProcess.Start("dotnet", arguments, AppContext.BaseDirectory);
                    var ready = await host.WaitForLineAsync(l => l.StartsWith("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                    started.Add(ready["READY".Length..].Trim(), host);
                }
            }
            catch
            {
                foreach (var host in started.Values)
                {
                    await host.DisposeAsync();
                }

                throw;
            }

            return new TaskWorkers(fixture, requestQueueUrl, taskQueueUrl, new DynamoDbTaskStore(dynalite.Dynamo, new DynamoDbTaskStoreOptions { TableName = table }), started);
        }

        public async Task<McpClient> ConnectAsync(string clientId, CancellationToken cancellationToken, bool answerElicitation = false)
        {
            var responseQueue = await _fixture.CreateQueueAsync("tasks-resp");
            return await McpClient.CreateAsync(
                new SqsClientTransport(_fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = _requestQueueUrl, ResponseQueueUrl = responseQueue, WaitTime = TimeSpan.FromSeconds(1), ClientId = clientId }),
                new McpClientOptions
                {
                    DiscoverProbeTimeout = TimeSpan.FromSeconds(30),
                    Handlers = answerElicitation
                        ? new McpClientHandlers
                        {
                            ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
                        }
                        : new McpClientHandlers(),
                },
                SqsHarness.LoggerFactory,
                cancellationToken);
        }

        /// <summary>Waits until the task reported <paramref name="step"/> steps; the process id its progress names.</summary>
        public async Task<int> WaitForRunnerAsync(string taskId, int step, CancellationToken cancellationToken)
        {
            while (true)
            {
                var record = await Store.GetAsync(taskId, cancellationToken);
                if (record?.Progress is { } progress && progress.Progress >= step && progress.Message is { } message)
                {
                    return int.Parse(message[(message.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        public void Kill(int processId) => _byWorkerId.Values.Single(p => p.ProcessId == processId).Kill();

        public async ValueTask DisposeAsync()
        {
            foreach (var host in _byWorkerId.Values)
            {
                await host.DisposeAsync();
            }
        }
    }
}
