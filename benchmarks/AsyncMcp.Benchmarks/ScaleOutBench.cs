using System.Diagnostics;
using System.Globalization;
using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// Several server workers on one SQS queue: the cost of a session message that reaches its worker directly against
/// one handed over by another worker (latency and SQS requests, in this process), and throughput and CPU with 1 to 3
/// worker processes (<c>AsyncMcp.TestServerHost</c>).
/// </summary>
internal sealed class ScaleOutBench(FauxqsEmulator emulator, IAmazonSQS sqs, McpServerOptions serverOptions)
{
    // Built by the project reference, in the same configuration and framework folder as this project's own output.
    private static readonly string s_workerHost = Path.Combine(
        RepositoryPaths.Root,
        "tests",
        "AsyncMcp.TestServerHost",
        Path.GetRelativePath(Path.Combine(RepositoryPaths.Root, "benchmarks", "AsyncMcp.Benchmarks"), AppContext.BaseDirectory),
        "AsyncMcp.TestServerHost.dll");

    /// <summary>Latency of one way of reaching a session's worker, and the SQS requests of the client and of all servers by operation.</summary>
    public sealed record PathResult(LatencyResult Latency, Dictionary<string, long> ClientRequests, Dictionary<string, long> ServerRequests)
    {
        /// <summary>Calls whose request a worker handed over to the holder's queue.</summary>
        public long HandedOver => ServerRequests.GetValueOrDefault("SendMessage (worker queue)");

        public static PathResult Combine(IReadOnlyCollection<PathResult> runs) =>
            new(LatencyRecorder.Combine([.. runs.Select(r => r.Latency)]), Sum(runs.Select(r => r.ClientRequests)), Sum(runs.Select(r => r.ServerRequests)));
    }

    /// <summary>
    /// Throughput of one run with several worker processes, the CPU time the workers, the clients (this process) and
    /// the emulator used over the measured calls, and sessions per worker (2025-11-25, as their ids name the worker).
    /// </summary>
    public sealed record ThroughputResult(LatencyResult Latency, TimeSpan WorkerCpu, TimeSpan ClientCpu, TimeSpan EmulatorCpu, string Sessions)
    {
        /// <summary>CPU time of all three over wall time: how many cores were busy.</summary>
        public double CoresBusy => (WorkerCpu + ClientCpu + EmulatorCpu).TotalSeconds / Latency.Seconds;

        public static ThroughputResult Combine(IReadOnlyCollection<ThroughputResult> runs) => new(
            LatencyRecorder.Combine([.. runs.Select(r => r.Latency)]),
            runs.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.WorkerCpu),
            runs.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.ClientCpu),
            runs.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.EmulatorCpu),
            string.Join("; ", runs.Select(r => r.Sessions).Distinct()));
    }

    /// <summary>Two workers; our client sends the session's messages straight to the holder's queue.</summary>
    public async Task<PathResult> DirectAsync(int concurrency, int calls, int warmup)
    {
        var queue = await QueueAsync("scale-direct");
        await using var first = await StartServerAsync(queue);
        await using var second = await StartServerAsync(queue);
        await using var client = await ConnectAsync(queue, followSessionAddress: true);
        return await MeasurePathAsync(client, [first, second], concurrency, calls, warmup);
    }

    /// <summary>
    /// Two workers; the client sends to the shared queue (as asyncmcp's clients do), and only the worker that does not
    /// hold the session receives from it: once the session is open, the holder's long polls of the shared queue go to
    /// an empty queue instead. So every measured call is handed over.
    /// </summary>
    public async Task<PathResult> HandedOverAsync(int concurrency, int calls, int warmup)
    {
        var queue = await QueueAsync("scale-handover");
        var empty = await QueueAsync("scale-empty");
        await using var holder = await StartServerAsync(queue);
        await using var client = await ConnectAsync(queue, followSessionAddress: false);
        holder.Sqs.RedirectReceives(queue, empty);
        await using var other = await StartServerAsync(queue);

        // The holder's poll in flight may still take a warm-up call; it has ended once a later poll was redirected.
        return await MeasurePathAsync(client, [holder, other], concurrency, calls, warmup, () => holder.Sqs.Redirected.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Two workers; the client sends to the shared queue and whichever worker receives a message serves it or hands it over.</summary>
    public async Task<PathResult> SharedQueueAsync(int concurrency, int calls, int warmup)
    {
        var queue = await QueueAsync("scale-shared");
        await using var first = await StartServerAsync(queue);
        await using var second = await StartServerAsync(queue);
        await using var client = await ConnectAsync(queue, followSessionAddress: false);
        return await MeasurePathAsync(client, [first, second], concurrency, calls, warmup);
    }

    /// <summary>One server with workers disabled: no own queue, no leases.</summary>
    public async Task<PathResult> WorkersDisabledAsync(int concurrency, int calls, int warmup)
    {
        var queue = await QueueAsync("scale-single");
        await using var server = await StartServerAsync(queue, workers: false);
        await using var client = await ConnectAsync(queue, followSessionAddress: true);
        return await MeasurePathAsync(client, [server], concurrency, calls, warmup);
    }

    /// <summary>
    /// <paramref name="workerCount"/> worker processes on one queue, <paramref name="clientCount"/> clients in this
    /// process (each its own response queue; 2025-11-25 clients follow their session's address), calls spread evenly
    /// over the clients with <paramref name="inFlight"/> in flight in all.
    /// </summary>
    public async Task<ThroughputResult> ThroughputAsync(int workerCount, string protocol, int clientCount, int inFlight, int calls, int warmup)
    {
        var queue = await QueueAsync("scale-tput");
        var workers = new List<ChildProcess>();
        var clients = new List<McpClient>();
        try
        {
            for (var i = 0; i < workerCount; i++)
            {
                var worker = ChildProcess.Start("dotnet", [s_workerHost, "--service-url", emulator.ServiceUrl, "--queue-url", queue], RepositoryPaths.Infra);
                workers.Add(worker);
                await worker.WaitForLineAsync(line => line.StartsWith("READY ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            }

            for (var i = 0; i < clientCount; i++)
            {
                var transport = new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = queue, ResponseQueueUrl = await QueueAsync("scale-resp") });
                clients.Add(await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = protocol }));
            }

            Task Call(int index) => EchoCall.RunAsync(clients[index % clientCount]);
            await LatencyRecorder.MeasureAsync(Call, inFlight, warmup, 0);
            var processes = workers.Select(w => Process.GetProcessById(w.ProcessId)).ToList();
            using var emulatorProcess = Process.GetProcessById(emulator.ProcessId);
            var cpu = CpuNow(processes, emulatorProcess);
            var latency = await LatencyRecorder.MeasureAsync(Call, inFlight, calls, 0);
            var used = CpuNow(processes, emulatorProcess);
            processes.ForEach(p => p.Dispose());
            var sessions = string.Join(" / ", clients
                .GroupBy(c => c.SessionId is { Length: 32 } id ? id[..8] : "none")
                .Select(g => g.Count())
                .OrderDescending()
                .Select(n => n.ToString(CultureInfo.InvariantCulture)));
            return new ThroughputResult(latency, used.Workers - cpu.Workers, used.Clients - cpu.Clients, used.Emulator - cpu.Emulator, protocol == "2025-11-25" ? sessions : "–");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }
    }

    private static (TimeSpan Workers, TimeSpan Clients, TimeSpan Emulator) CpuNow(List<Process> workers, Process emulator)
    {
        workers.ForEach(p => p.Refresh());
        emulator.Refresh();
        return (
            workers.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.TotalProcessorTime),
            Process.GetCurrentProcess().TotalProcessorTime,
            emulator.TotalProcessorTime);
    }

    private async Task<Connection> ConnectAsync(string queue, bool followSessionAddress)
    {
        var counted = CountingSqs.Wrap(sqs);
        var transport = new SqsClientTransport(counted.Client, new SqsClientTransportOptions
        {
            ServerRequestQueueUrl = queue,
            ResponseQueueUrl = await QueueAsync("scale-resp"),
            FollowSessionAddress = followSessionAddress,
        });
        return new Connection(await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }), counted);
    }

    private static async Task<PathResult> MeasurePathAsync(Connection client, Server[] servers, int concurrency, int calls, int warmup, Func<Task>? beforeMeasuring = null)
    {
        Task Call(int _) => EchoCall.RunAsync(client.Client);
        await LatencyRecorder.MeasureAsync(Call, concurrency, warmup, 0);
        if (beforeMeasuring is not null)
        {
            await beforeMeasuring();
        }

        var clientBefore = client.Sqs.Snapshot();
        var serverBefore = servers.Select(s => s.Sqs.Snapshot()).ToList();
        var latency = await LatencyRecorder.MeasureAsync(Call, concurrency, calls, 0);
        return new PathResult(
            latency,
            Since(clientBefore, client.Sqs.Snapshot()),
            Sum(servers.Select((s, i) => Since(serverBefore[i], s.Sqs.Snapshot()))));
    }

    private static Dictionary<string, long> Since(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key), StringComparer.Ordinal);

    private static Dictionary<string, long> Sum(IEnumerable<Dictionary<string, long>> counts) =>
        counts.SelectMany(c => c).GroupBy(p => p.Key, p => p.Value).ToDictionary(g => g.Key, g => g.Sum(), StringComparer.Ordinal);

    private async Task<Server> StartServerAsync(string queue, bool workers = true)
    {
        var counted = CountingSqs.Wrap(sqs);
        var transport = new SqsServerTransport(counted.Client, new SqsServerTransportOptions { RequestQueueUrl = queue, MaxConcurrentRequests = 128, Workers = { Enabled = workers } }, serverOptions);
        await transport.StartAsync();
        return new Server(transport, counted);
    }

    private Task<string> QueueAsync(string prefix) => emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName(prefix));

    /// <summary>A client in this process and the counter of its SQS requests.</summary>
    private sealed record Connection(McpClient Client, CountingSqs Sqs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }

    /// <summary>An in-process server and the counter of its SQS requests.</summary>
    private sealed record Server(SqsServerTransport Transport, CountingSqs Sqs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Transport.DisposeAsync();
    }
}
