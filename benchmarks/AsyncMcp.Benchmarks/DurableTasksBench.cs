using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Tasks;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// Durable tasks on the emulators: an SQS server whose <c>echo</c> tool is opted in as a task tool, tasks kept in a
/// dynalite DynamoDB table and their work on an SQS queue, our SQS client on 2026-07-28. Measures task creation against
/// an ordinary call of the same tool, <c>tasks/get</c>, and tasks run to completion per second.
/// </summary>
internal static class DurableTasksBench
{
    /// <summary>The <c>pollIntervalMs</c> the server suggests; also how often a running task looks for a cancel request.</summary>
    public static readonly TimeSpan ServerPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The wait's floor; below the server's hint, so the hint is what the waits follow.</summary>
    public static readonly TimeSpan MinimumPollInterval = TimeSpan.FromMilliseconds(10);

    public const int MaxConcurrentTasks = 128;

    private static readonly Dictionary<string, object?> s_arguments = new() { ["message"] = "hello" };

    public static async Task RunAsync(FauxqsEmulator emulator, IAmazonSQS sqs, bool quick, Action<string> line)
    {
        var (latencyCalls, throughputTasks, rounds) = quick ? (100, 640, 2) : (400, 3200, 2);
        await using var dynalite = await DynaliteEmulator.StartAsync();
        using var dynamo = dynalite.CreateClient();
        await using var rig = await Rig.StartAsync(emulator, sqs, dynamo);

        // Warm both paths (JIT, connection pools, the table) before anything is measured.
        await rig.CallAsync();
        await rig.WaitAsync(await rig.CreateTaskAsync());

        // A task to read: finished, so its result comes with it.
        var finished = await rig.CreateTaskAsync();
        await rig.WaitAsync(finished);

        // Ordinary calls, task creations and reads alternate by round, so that all three see the same machine load; each
        // starts once the tasks created before it have run, so no task runs beside the calls measured.
        var calls = new List<LatencyResult>();
        var creations = new List<LatencyResult>();
        var reads = new List<LatencyResult>();
        var puts = new List<LatencyResult>();
        var sends = new List<LatencyResult>();
        for (var round = 0; round < rounds; round++)
        {
            await rig.WaitUntilIdleAsync();
            calls.Add(await LatencyRecorder.MeasureAsync(_ => rig.CallAsync(), 1, latencyCalls, latencyCalls / 10));
            creations.Add(await LatencyRecorder.MeasureAsync(_ => rig.CreateTaskAsync(), 1, latencyCalls, latencyCalls / 10));
            await rig.WaitUntilIdleAsync();
            reads.Add(await LatencyRecorder.MeasureAsync(_ => rig.GetAsync(finished), 1, latencyCalls, latencyCalls / 10));
            puts.Add(await LatencyRecorder.MeasureAsync(_ => rig.RawPutAsync(), 1, latencyCalls, latencyCalls / 10));
            sends.Add(await LatencyRecorder.MeasureAsync(_ => rig.RawSendAsync(), 1, latencyCalls, latencyCalls / 10));
        }

        var callsAt64 = new List<LatencyResult>();
        var tasksAt64 = new List<LatencyResult>();
        var getsPerTask = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            await rig.WaitUntilIdleAsync();
            callsAt64.Add(await LatencyRecorder.MeasureAsync(_ => rig.CallAsync(), 64, throughputTasks, throughputTasks / 10));
            await rig.WaitUntilIdleAsync();
            var before = rig.GetRequests;
            tasksAt64.Add(await LatencyRecorder.MeasureAsync(async _ => await rig.WaitAsync(await rig.CreateTaskAsync()), 64, throughputTasks, throughputTasks / 10));
            getsPerTask.Add((rig.GetRequests - before) / (double)(throughputTasks + (throughputTasks / 10)));
        }

        var call = LatencyRecorder.Combine(calls);
        var creation = LatencyRecorder.Combine(creations);
        var gets = LatencyRecorder.Combine(reads);
        var put = LatencyRecorder.Combine(puts);
        var send = LatencyRecorder.Combine(sends);
        var call64 = LatencyRecorder.Combine(callsAt64);
        var task64 = LatencyRecorder.Combine(tasksAt64);

        line(string.Create(CultureInfo.InvariantCulture, $"Server: `SqsServerTransport` with `AddTasks` (`DynamoDbTaskStore` on dynalite, `SqsTaskWorkQueue` on fauxqs, `echo` in `TaskTools`, `MaxConcurrentTasks` {MaxConcurrentTasks}, `PollInterval` {ServerPollInterval.TotalMilliseconds:F0} ms); client: `SqsClientTransport`, protocol 2026-07-28; waits with `MinimumPollInterval` {MinimumPollInterval.TotalMilliseconds:F0} ms, so they poll at the server's hint. {rounds} round{(rounds == 1 ? "" : "s")} per row, pooled; 10 % warm-up calls each."));
        line("");
        line("| measurement | concurrency | calls | p50 | p99 | per second | ratio |");
        line("|---|---:|---:|---:|---:|---:|---|");
        line(Row("ordinary `tools/call` `echo`", call, ""));
        line(Row("task creation (`tools/call` `echo` answered with a task)", creation, string.Create(CultureInfo.InvariantCulture, $"p50 {creation.P50Ms / call.P50Ms:F2}× / p99 {creation.P99Ms / call.P99Ms:F2}× the ordinary call")));
        line(Row("`tasks/get` of a completed task", gets, string.Create(CultureInfo.InvariantCulture, $"p50 {gets.P50Ms / call.P50Ms:F2}× the ordinary call")));
        line(Row("what creation adds: a DynamoDB `PutItem` of a small item (AWS SDK, direct)", put, ""));
        line(Row("what creation adds: an SQS `SendMessage` to a queue nobody reads (AWS SDK, direct)", send, ""));
        line(Row("ordinary `tools/call` `echo`", call64, ""));
        line(Row("task created and waited for to completion", task64, string.Create(CultureInfo.InvariantCulture, $"{task64.PerSecond / call64.PerSecond:F2}× the ordinary calls/s; {getsPerTask.Average():F2} `tasks/get` per task")));
    }

    private static string Row(string name, LatencyResult result, string ratio) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {result.Concurrency} | {result.Calls} | {result.P50Ms:F2} ms | {result.P99Ms:F2} ms | {result.PerSecond:F0} | {ratio} |");

    /// <summary>One server with durable tasks and one client, on queues and a table of their own.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private static readonly McpTaskWaitOptions s_wait = new() { MinimumPollInterval = MinimumPollInterval, Timeout = TimeSpan.FromSeconds(120) };

        private readonly McpTaskWorker _worker;
        private readonly SqsServerTransport _server;
        private readonly McpClient _client;
        private readonly Func<long> _getRequests;
        private readonly IAmazonSQS _sqs;
        private readonly string _taskQueue;
        private readonly IAmazonDynamoDB _dynamo;
        private readonly string _scratchTable;
        private readonly string _scratchQueue;

        private Rig(McpTaskWorker worker, SqsServerTransport server, McpClient client, Func<long> getRequests, IAmazonSQS sqs, string taskQueue, IAmazonDynamoDB dynamo, string scratchTable, string scratchQueue)
        {
            _dynamo = dynamo;
            _scratchTable = scratchTable;
            _scratchQueue = scratchQueue;
            _sqs = sqs;
            _taskQueue = taskQueue;
            _worker = worker;
            _server = server;
            _client = client;
            _getRequests = getRequests;
        }

        /// <summary>How many <c>tasks/get</c> requests the server has received.</summary>
        public long GetRequests => _getRequests();

        public static async Task<Rig> StartAsync(FauxqsEmulator emulator, IAmazonSQS sqs, IAmazonDynamoDB dynamo)
        {
            var table = DynaliteEmulator.UniqueTableName("bench-tasks");
            await new DynamoDbTaskTableProvisioner(dynamo).EnsureTableAsync(table);
            var requestQueue = await emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName("tasks-req"));
            var taskQueue = await emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName("tasks-work"));
            var responseQueue = await emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName("tasks-resp"));
            var scratchQueue = await emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName("tasks-scratch"));
            var scratchTable = DynaliteEmulator.UniqueTableName("bench-scratch");
            await new DynamoDbTaskTableProvisioner(dynamo).EnsureTableAsync(scratchTable);

            var options = TestMcpServer.CreateOptions();
            var gets = new long[1];
            options.Filters.Message.IncomingFilters.Add(next => (context, cancellationToken) =>
            {
                if (context.JsonRpcMessage is JsonRpcRequest { Method: McpTasks.GetMethod })
                {
                    Interlocked.Increment(ref gets[0]);
                }

                return next(context, cancellationToken);
            });
            var tasks = new McpTasksServerOptions
            {
                Store = new DynamoDbTaskStore(dynamo, new DynamoDbTaskStoreOptions { TableName = table }),
                WorkQueue = new SqsTaskWorkQueue(sqs, taskQueue),
                MaxConcurrentTasks = MaxConcurrentTasks,
                PollInterval = ServerPollInterval,
            };
            tasks.TaskTools.Add("echo");
            var worker = options.AddTasks(tasks);
            SqsServerTransport? server = null;
            try
            {
                server = new SqsServerTransport(sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue, MaxConcurrentRequests = 128 }, options);
                await server.StartAsync();
                var client = await McpClient.CreateAsync(
                    new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueue, ResponseQueueUrl = responseQueue }),
                    new McpClientOptions { ProtocolVersion = McpTasks.MinimumProtocolVersion });
                if (client.NegotiatedProtocolVersion != McpTasks.MinimumProtocolVersion)
                {
                    await client.DisposeAsync();
                    throw new InvalidOperationException($"Negotiated {client.NegotiatedProtocolVersion}, not {McpTasks.MinimumProtocolVersion}.");
                }

                return new Rig(worker, server, client, () => Interlocked.Read(ref gets[0]), sqs, taskQueue, dynamo, scratchTable, scratchQueue);
            }
            catch
            {
                if (server is not null)
                {
                    await server.DisposeAsync();
                }

                await worker.DisposeAsync();
                throw;
            }
        }

        /// <summary>The store's write on creation, without the store: one small item into a table of its own.</summary>
        public async Task RawPutAsync() => await _dynamo.PutItemAsync(new Amazon.DynamoDBv2.Model.PutItemRequest
        {
            TableName = _scratchTable,
            Item = new() { [TaskTableLayout.TaskId] = new() { S = Guid.NewGuid().ToString("N") }, ["status"] = new() { S = "working" } },
        });

        /// <summary>The work queue's send on creation, without the queue: one small message to a queue of its own.</summary>
        public async Task RawSendAsync() => await _sqs.SendMessageAsync(_scratchQueue, "{\"taskId\":\"x\"}");

        public async Task CallAsync()
        {
            var result = await _client.CallToolAsync("echo", s_arguments);
            Check(result);
        }

        public async Task<string> CreateTaskAsync()
        {
            var created = await _client.CallToolAsTaskAsync("echo", s_arguments);
            return created.TaskId ?? throw new InvalidOperationException("The server answered at once instead of with a task.");
        }

        public async Task GetAsync(string taskId)
        {
            var task = await _client.GetTaskAsync(taskId);
            if (task.Status != McpTaskStatus.Completed)
            {
                throw new InvalidOperationException($"Task {taskId} is {task.Status}.");
            }
        }

        public async Task WaitAsync(string taskId) => Check(await _client.WaitForTaskAsync(taskId, options: s_wait));

        /// <summary>
        /// Waits (up to two minutes) until every task created so far has run: a work item is deleted when its task ended,
        /// so the task queue is then empty. The next measurement starts quiet.
        /// </summary>
        public async Task WaitUntilIdleAsync()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (_worker.RunningTasks > 0 || await UnsettledWorkAsync(deadline.Token) > 0)
            {
                await Task.Delay(50, deadline.Token);
            }
        }

        private async Task<int> UnsettledWorkAsync(CancellationToken cancellationToken)
        {
            var attributes = await _sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = _taskQueue, AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] },
                cancellationToken);
            return attributes.ApproximateNumberOfMessages + attributes.ApproximateNumberOfMessagesNotVisible;
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
            await _worker.DisposeAsync();
        }

        private static void Check(CallToolResult result)
        {
            if (result.Content is not [TextContentBlock { Text: "Echo: hello" }])
            {
                throw new InvalidOperationException("wrong answer");
            }
        }
    }
}
