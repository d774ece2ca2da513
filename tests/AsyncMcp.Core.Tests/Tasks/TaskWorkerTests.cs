using System.ComponentModel;
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
/// Two workers in one process, each an AsyncMcp server with its own runtime, sharing the task store and the work queue as
/// workers in separate processes share DynamoDB and SQS: a worker that stops hands its task to the other, and a cancel
/// received by the worker that does not run the task reaches the one that does through the store.
/// </summary>
public sealed class TaskWorkerTests : IAsyncDisposable
{
    private static readonly ReplyAddressConvention s_convention = new("replyTo", null);

    private readonly InMemoryBroker _broker = new();
    private readonly InMemoryTaskStore _store = new();
    private readonly InMemoryTaskWorkQueue _queue = new();
    private readonly Worker[] _workers;
    private int _starts;

    public TaskWorkerTests()
    {
        _workers = [CreateWorker("memory://worker-a"), CreateWorker("memory://worker-b")];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.Server.DisposeAsync();
            await worker.Tasks.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_worker_that_stops_hands_its_running_task_to_the_other_which_runs_it_again_to_the_end()
    {
        using var deadline = Waiting.Within(TimeSpan.FromSeconds(60));
        await using var client = await ConnectAsync(_workers[0].Address, deadline.Token);

        var created = await client.CallToolAsTaskAsync("count", new Dictionary<string, object?> { ["steps"] = 30, ["delayMs"] = 50 }, deadline.Token);
        var running = await RunningWorkerAsync(deadline.Token);
        await Waiting.EventuallyAsync(async () => (await _store.GetAsync(created.TaskId!, deadline.Token))!.Progress is not null, what: "The task's first progress");

        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync();
            await running.Tasks.StopAsync(now.Token);
        }

        var result = await client.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token);
        Assert.Equal("counted to 30", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(2, Volatile.Read(ref _starts));
        Assert.Equal(0, running.Tasks.RunningTasks);
    }

    [Fact]
    public async Task A_cancel_received_by_the_worker_that_does_not_run_the_task_stops_it_through_the_store()
    {
        using var deadline = Waiting.Within(TimeSpan.FromSeconds(60));
        await using var creator = await ConnectAsync(_workers[0].Address, deadline.Token);
        var created = await creator.CallToolAsTaskAsync("count", new Dictionary<string, object?> { ["steps"] = 10_000, ["delayMs"] = 20 }, deadline.Token);
        var running = await RunningWorkerAsync(deadline.Token);
        var other = _workers.Single(w => w != running);

        await using var canceller = await ConnectAsync(other.Address, deadline.Token);
        await canceller.CancelTaskAsync(created.TaskId!, deadline.Token);

        await Assert.ThrowsAsync<McpTaskCancelledException>(async () => await creator.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token));
        await Waiting.Eventually(() => running.Tasks.RunningTasks == 0, what: "The run on the other worker ending");
    }

    [Fact]
    public async Task Options_made_again_share_the_first_options_runtime_and_worker()
    {
        using var deadline = Waiting.Within(TimeSpan.FromSeconds(60));
        var first = new McpServerOptions { ToolCollection = [McpServerTool.Create([Description("Echoes.")] (string text) => text, new() { Name = "echo" })] };
        var tasks = new McpTasksServerOptions { Store = new InMemoryTaskStore(), PollInterval = TimeSpan.FromMilliseconds(20) };
        tasks.TaskTools.Add("echo");
        await using var worker = first.AddTasks(tasks);

        // As the SDK's stateless HTTP endpoint does: equivalent options for the next request.
        var again = new McpServerOptions { ToolCollection = [McpServerTool.Create([Description("Echoes.")] (string text) => text, new() { Name = "echo" })] };
        again.AddTasks(worker);
        Assert.Throws<InvalidOperationException>(() => again.AddTasks(worker));

        await using var server = new McpQueueServer(_broker.Queue("memory://again"), _broker, s_convention, new ServerOptions(), 10, again, deadLetters: false, "memory");
        server.Start();
        await using var client = await ConnectAsync("memory://again", deadline.Token);
        var created = await client.CallToolAsTaskAsync("echo", new Dictionary<string, object?> { ["text"] = "hi" }, deadline.Token);
        var result = await client.WaitForTaskAsync(created.TaskId!, cancellationToken: deadline.Token);

        Assert.Equal("hi", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(TaskRecordStatus.Completed, (await tasks.Store.GetAsync(created.TaskId!, deadline.Token))!.Status);
    }

    private async Task<Worker> RunningWorkerAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_workers.SingleOrDefault(w => w.Tasks.RunningTasks > 0) is { } running)
            {
                return running;
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    private Worker CreateWorker(string address)
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "tasks-worker-test", Version = "1.0.0" },
            ToolCollection =
            [
                McpServerTool.Create(
                    [Description("Counts steps × delayMs, reporting progress.")]
                    async (int steps, int delayMs, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken) =>
                    {
                        Interlocked.Increment(ref _starts);
                        for (var step = 1; step <= steps; step++)
                        {
                            await Task.Delay(delayMs, cancellationToken);
                            progress.Report(new ProgressNotificationValue { Progress = step, Total = steps });
                        }

                        return $"counted to {steps}";
                    },
                    new() { Name = "count" }),
            ],
        };
        var tasks = new McpTasksServerOptions { Store = _store, WorkQueue = _queue, PollInterval = TimeSpan.FromMilliseconds(20) };
        tasks.TaskTools.Add("count");
        var worker = options.AddTasks(tasks);
        var server = new McpQueueServer(_broker.Queue(address), _broker, s_convention, new ServerOptions(), 10, options, deadLetters: false, "memory");
        server.Start();
        return new Worker(address, server, worker);
    }

    private async Task<McpClient> ConnectAsync(string serverAddress, CancellationToken cancellationToken) =>
        await McpClient.CreateAsync(new BrokerClientTransport(_broker, serverAddress, s_convention, "worker-test-client"), cancellationToken: cancellationToken);

    private sealed record Worker(string Address, McpQueueServer Server, McpTaskWorker Tasks);

    private sealed class ServerOptions : AsyncMcpServerTransportOptions;
}
