// Measures the SQS transport against a raw two-hop SQS echo on the same emulator, in one run, and prints a
// Markdown report (also written to the file named by --output, if given). Run it with scripts/bench.sh.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Benchmarks;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

var output = args.SkipWhile(a => a != "--output").Skip(1).FirstOrDefault();
var quick = args.Contains("--quick");
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
var charts = args.SkipWhile(a => a != "--charts").Skip(1).FirstOrDefault();
if (charts is not null)
{
    Directory.CreateDirectory(charts);
}

// Enough unmeasured calls that tiered JIT has promoted the hot paths before a row is measured, so concurrency-1 rows
// do not time the JIT: a method is recompiled after 30 calls and a quiet 100 ms, and with dynamic PGO twice (an
// instrumented tier first). 300 calls was not enough: the JIT's background compiles and the set-up's own background
// work still fell in the measured window (0.2–0.7 ms of CPU per call at concurrency 1, more for the set-ups with more
// code); --quick keeps the old 10 %.
int Warmup(int calls) => quick ? Math.Max(20, calls / 10) : Math.Max(1000, calls / 10);
// Rows that compare set-ups run each set-up this many times, interleaved (A, B, C, A, B, C, …), and pool the runs, so
// that a burst of load from elsewhere on the machine falls on all of them rather than on one. Each run starts on a
// collected heap: otherwise what the run before left (promoted, not yet collected) is traced by this run's
// collections, and a set-up run after another set-up of the same weight measured about 0.4 ms more CPU per call at
// concurrency 1 than the same set-up run after the raw echo (the same set-up in both places, three runs; part of that
// was the first round's JIT, below).
// A first round runs every set-up once and is not counted: the first run of a set-up in the process still pays for
// its JIT after 1,000 warm-up calls (tiered compilation goes on in the background for seconds: at concurrency 1 the
// first round cost the raw echo 2.4 ms of CPU per call and the first AsyncMcp set-up 2.5 ms, against 0.93 and
// 1.36–1.49 ms in the rounds after it; pooled, that charged whichever set-up ran first).
var setupRounds = quick ? 1 : 3;
var discardedRounds = quick ? 0 : 1;
async Task<T[]> Interleaved<T>(Func<IReadOnlyCollection<T>, T> combine, params Func<Task<T>>[] setups)
{
    var runs = setups.Select(_ => new List<T>()).ToArray();
    for (var round = 0; round < discardedRounds + setupRounds; round++)
    {
        // Each round starts one set-up later: a set-up's place in the round changes what it runs after.
        for (var k = 0; k < setups.Length; k++)
        {
            var i = (k + round) % setups.Length;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var run = await setups[i]();
            if (round >= discardedRounds)
            {
                runs[i].Add(run);
            }
        }
    }

    return [.. runs.Select(combine)];
}

bool Run(string section) => only is null || string.Equals(only, section, StringComparison.OrdinalIgnoreCase);
var report = new StringBuilder();
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

await using var emulator = await FauxqsEmulator.StartAsync();
using var sqs = emulator.CreateSqsClient();
using var s3 = emulator.CreateS3Client();
using var sns = new AsyncMcp.Aws.Sns.SnsQueryClient(new AsyncMcp.Aws.Sns.SnsQueryClientOptions { ServiceUrl = emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials });
var snsProvisioner = new AsyncMcp.Aws.SnsSqs.SnsSqsProvisioner(sqs, sns);
Task<string> Queue(string prefix) => emulator.CreateQueueAsync(sqs, FauxqsEmulator.UniqueName(prefix));

var levels = quick
    ? new[] { (1, 50), (8, 200), (64, 640) }
    : new[] { (1, 2000), (8, 1600), (64, 6400) };
if (args.SkipWhile(a => a != "--concurrency").Skip(1).FirstOrDefault() is { } onlyConcurrency)
{
    // One level only (for a profile of one row, say); sections with levels of their own ignore it.
    levels = [.. levels.Where(l => l.Item1.ToString(CultureInfo.InvariantCulture) == onlyConcurrency)];
}

Line($"Run: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}; fauxqs 2.4.1 on Node 22 (loopback).");
Line();
var serverOptions = TestMcpServer.CreateOptions();
// Where a call's handling in the MCP SDK starts and ends, for the timelines at concurrency 1 (nothing while none records).
serverOptions.Filters.Message.IncomingFilters.Add(next => (context, cancellationToken) =>
{
    CallTimeline.Current?.Mark(CallTimeline.Point.HandlerStarted);
    return next(context, cancellationToken);
});
serverOptions.Filters.Message.OutgoingFilters.Add(next => (context, cancellationToken) =>
{
    CallTimeline.Current?.Mark(CallTimeline.Point.AnswerSent);
    return next(context, cancellationToken);
});
var costMeter = new CostMeter(emulator.ProcessId);
if (Run("sqs"))
{
Line("### tools/call `echo` round trip over SQS vs. a raw two-hop SQS echo: time, AWS requests and CPU per call");
Line();
Line($"Each side has its own SQS client, counted at its HTTP layer (every request on the wire, SDK retries included). CPU is this process's CPU time (`Environment.CpuUsage`, client and server both run in it) over the measured calls ÷ calls; the emulator's CPU is measured the same way on its process. Each row: at least {Warmup(1)} unmeasured calls, then the set-ups {setupRounds} time{(setupRounds == 1 ? "" : "s")} each, interleaved, pooled (*calls* is per run){(discardedRounds > 0 ? ", after a first round of every set-up that is not counted (the JIT's work)" : "")}.");
Line();
Line("| concurrency | calls | raw echo p50 | raw p99 | raw calls/s | AsyncMcp 2025-11-25 p50 | p99 | calls/s | AsyncMcp 2026-07-28 p50 | p99 | calls/s | p50 ratio (2025 / 2026) | throughput ratio (2025 / 2026) |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
var sqsCosts = new List<(int Concurrency, CostResult Raw, CostResult November, CostResult July)>();
foreach (var (concurrency, calls) in levels)
{
    var warmup = Warmup(calls);
    var results = await Interleaved(
        CostResult.Combine,
        () => MeasureRawSqsCostAsync(concurrency, calls, warmup),
        () => MeasureSqsCostAsync("2025-11-25", concurrency, calls, warmup),
        () => MeasureSqsCostAsync(null, concurrency, calls, warmup));
    var (raw, november, july) = (results[0], results[1], results[2]);
    sqsCosts.Add((concurrency, raw, november, july));
    var (r, n, j) = (raw.Latency, november.Latency, july.Latency);
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {calls} | {r.P50Ms:F2} ms | {r.P99Ms:F2} ms | {r.PerSecond:F0} | {n.P50Ms:F2} ms | {n.P99Ms:F2} ms | {n.PerSecond:F0} | {j.P50Ms:F2} ms | {j.P99Ms:F2} ms | {j.PerSecond:F0} | {n.P50Ms / r.P50Ms:F2}× / {j.P50Ms / r.P50Ms:F2}× | {n.PerSecond / r.PerSecond:F2}× / {j.PerSecond / r.PerSecond:F2}× |"));
}

Line();
Line("| concurrency | SQS requests per call: raw / 2025-11-25 / 2026-07-28 | CPU per call, client + server: raw / 2025-11-25 / 2026-07-28 | CPU ratio (2025 / 2026) | emulator CPU per call: raw / 2025-11-25 / 2026-07-28 | allocated per call: raw / 2025-11-25 / 2026-07-28 | full GCs during the measured calls |");
Line("|---:|---|---|---|---|---|---|");
foreach (var (concurrency, raw, november, july) in sqsCosts)
{
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {raw.RequestsPerCall:F2} / {november.RequestsPerCall:F2} / {july.RequestsPerCall:F2} | {raw.CpuMsPerCall:F3} / {november.CpuMsPerCall:F3} / {july.CpuMsPerCall:F3} ms | {november.CpuMsPerCall / raw.CpuMsPerCall:F2}× / {july.CpuMsPerCall / raw.CpuMsPerCall:F2}× | {raw.EmulatorCpuMsPerCall:F3} / {november.EmulatorCpuMsPerCall:F3} / {july.EmulatorCpuMsPerCall:F3} ms | {raw.Latency.AllocatedKiBPerCall:F1} / {november.Latency.AllocatedKiBPerCall:F1} / {july.Latency.AllocatedKiBPerCall:F1} KiB | {raw.Latency.Gen2Collections} / {november.Latency.Gen2Collections} / {july.Latency.Gen2Collections} |"));
}

Line();
Line("| concurrency | set-up | client requests per call by operation | server requests per call by operation |");
Line("|---:|---|---|---|");
foreach (var (concurrency, raw, november, july) in sqsCosts)
{
    foreach (var (name, cost) in new[] { ("raw echo", raw), ("AsyncMcp 2025-11-25", november), ("AsyncMcp 2026-07-28", july) })
    {
        Line($"| {concurrency} | {name} | {cost.Breakdown(server: false)} | {cost.Breakdown(server: true)} |");
    }
}

TimelineTable([.. sqsCosts.Where(c => c.Concurrency == 1).SelectMany(c => new[] { ("raw echo", c.Raw), ("AsyncMcp 2025-11-25", c.November), ("AsyncMcp 2026-07-28", c.July) })]);

if (charts is not null)
{
    var xs = sqsCosts.Select(c => c.Concurrency).ToList();
    Charts.Lines(Path.Combine(charts, "sqs-throughput.svg"), "SQS echo: calls per second", "calls/s", xs,
    [
        ("raw SQS echo", [.. sqsCosts.Select(c => c.Raw.Latency.PerSecond)], true),
        ("AsyncMcp 2025-11-25", [.. sqsCosts.Select(c => c.November.Latency.PerSecond)], false),
        ("AsyncMcp 2026-07-28", [.. sqsCosts.Select(c => c.July.Latency.PerSecond)], false),
    ]);
    Charts.Lines(Path.Combine(charts, "sqs-latency.svg"), "SQS echo: p50 (filled) and p99 (open markers) per call", "ms", xs,
    [
        ("raw p50", [.. sqsCosts.Select(c => c.Raw.Latency.P50Ms)], false),
        ("2025-11-25 p50", [.. sqsCosts.Select(c => c.November.Latency.P50Ms)], false),
        ("2026-07-28 p50", [.. sqsCosts.Select(c => c.July.Latency.P50Ms)], false),
        ("raw p99", [.. sqsCosts.Select(c => c.Raw.Latency.P99Ms)], true),
        ("2025-11-25 p99", [.. sqsCosts.Select(c => c.November.Latency.P99Ms)], true),
        ("2026-07-28 p99", [.. sqsCosts.Select(c => c.July.Latency.P99Ms)], true),
    ]);
    Charts.Bars(Path.Combine(charts, "sqs-requests-per-call.svg"), "SQS API requests per tools/call (client + server)", "requests per call", xs,
    [
        ("raw SQS echo", [.. sqsCosts.Select(c => c.Raw.RequestsPerCall)]),
        ("AsyncMcp 2025-11-25", [.. sqsCosts.Select(c => c.November.RequestsPerCall)]),
        ("AsyncMcp 2026-07-28", [.. sqsCosts.Select(c => c.July.RequestsPerCall)]),
    ]);
    Charts.Bars(Path.Combine(charts, "sqs-cpu-per-call.svg"), "CPU per tools/call, client + server (one process)", "ms of CPU per call", xs,
    [
        ("raw SQS echo", [.. sqsCosts.Select(c => c.Raw.CpuMsPerCall)]),
        ("AsyncMcp 2025-11-25", [.. sqsCosts.Select(c => c.November.CpuMsPerCall)]),
        ("AsyncMcp 2026-07-28", [.. sqsCosts.Select(c => c.July.CpuMsPerCall)]),
    ]);
}
}

if (Run("idle"))
{
Line();
Line("### CPU while idle: a connected client and its server with no calls");
Line();
var idleFor = TimeSpan.FromSeconds(quick ? 3 : 10);
Line(string.Create(CultureInfo.InvariantCulture, $"After 300 calls and 3 s (so that the JIT's background recompilation is over), nothing for {idleFor.TotalSeconds:F0} s; this process's CPU time and the emulator's over that time, and the SQS requests both sides made. Long polls wait 20 s, so an idle pair should make almost none."));
Line();
Line("| set-up | CPU of this process | emulator CPU | SQS requests |");
Line("|---|---:|---:|---:|");
async Task IdleRowAsync(string name, Func<AwsRequestCounter, AwsRequestCounter, Task<IAsyncDisposable>> start)
{
    using var clientCounter = new AwsRequestCounter();
    using var serverCounter = new AwsRequestCounter();
    await using var running = await start(clientCounter, serverCounter);
    await Task.Delay(TimeSpan.FromSeconds(3));
    using var emulatorProcess = Process.GetProcessById(emulator.ProcessId);
    var (cpu, emulatorCpu, requests) = (Environment.CpuUsage.TotalTime, emulatorProcess.TotalProcessorTime, clientCounter.Snapshot().Values.Sum() + serverCounter.Snapshot().Values.Sum());
    await Task.Delay(idleFor);
    emulatorProcess.Refresh();
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds:F0} ms | {(emulatorProcess.TotalProcessorTime - emulatorCpu).TotalMilliseconds:F0} ms | {clientCounter.Snapshot().Values.Sum() + serverCounter.Snapshot().Values.Sum() - requests} |"));
}

await IdleRowAsync("raw SQS echo", async (client, server) =>
{
    var echo = new RawSqsEcho(client.CreateSqsClient(emulator.ServiceUrl), await Queue("raw-req"), await Queue("raw-resp"), server.CreateSqsClient(emulator.ServiceUrl));
    for (var i = 0; i < 300; i++)
    {
        await echo.RoundTripAsync(i);
    }

    return echo;
});
foreach (var protocol in new[] { "2025-11-25", "2026-07-28" })
{
    await IdleRowAsync($"AsyncMcp over SQS, {protocol}", async (clientCounter, serverCounter) =>
    {
        var requestQueue = await Queue("bench-req");
        var server = new SqsServerTransport(serverCounter.CreateSqsClient(emulator.ServiceUrl), new SqsServerTransportOptions { RequestQueueUrl = requestQueue }, serverOptions);
        await server.StartAsync();
        var client = await McpClient.CreateAsync(
            new SqsClientTransport(clientCounter.CreateSqsClient(emulator.ServiceUrl), new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueue, ResponseQueueUrl = await Queue("bench-resp") }),
            new McpClientOptions { ProtocolVersion = protocol });
        for (var i = 0; i < 300; i++)
        {
            await EchoCall.RunAsync(client);
        }

        return new Both(client, server);
    });
}
}

if (Run("webhook"))
{
Line();
Line("### tools/call `echo` round trip over webhooks vs. the SDK's Streamable HTTP (both on Kestrel, loopback, this process)");
Line();
Line($"Webhook: the client POSTs each request (signed) and the server POSTs the answer (signed) to the client's own Kestrel listener: two HTTP requests per call, or fewer when answers that wait for the client's webhook at the same moment go out in one POST (AsyncMcp's batched deliveries, on by default; the last set-up turns them off). Streamable HTTP: one POST answered on its SSE stream. CPU per call: this process's CPU time (client and server both) over the measured calls ÷ calls. Warm-up and rounds ({setupRounds}, interleaved, pooled) as in the SQS table.");
Line();
Line("| concurrency | calls | Streamable HTTP p50 | p99 | calls/s | webhook 2025-11-25 p50 | p99 | calls/s | webhook 2026-07-28 p50 | p99 | calls/s | p50 ratio (2025 / 2026) | throughput ratio (2025 / 2026) | CPU per call: Streamable HTTP / 2025 / 2026 | allocated per call: Streamable HTTP / 2025 / 2026 | one answer per POST (2025-11-25): p50, calls/s, ratio, CPU per call |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|");
var webhookRows = new List<(int Concurrency, LatencyResult Streamable, LatencyResult November, LatencyResult July, LatencyResult Unbatched)>();
foreach (var (concurrency, calls) in levels)
{
    var warmup = Warmup(calls);
    var results = await Interleaved(
        LatencyRecorder.Combine,
        () => WebhookBench.MeasureStreamableHttpAsync("2025-11-25", concurrency, calls, warmup),
        () => WebhookBench.MeasureWebhookAsync("2025-11-25", concurrency, calls, warmup),
        () => WebhookBench.MeasureWebhookAsync(null, concurrency, calls, warmup),
        () => WebhookBench.MeasureWebhookAsync("2025-11-25", concurrency, calls, warmup, batch: false));
    var (streamable, november, july, unbatched) = (results[0], results[1], results[2], results[3]);
    webhookRows.Add((concurrency, streamable, november, july, unbatched));
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {calls} | {streamable.P50Ms:F2} ms | {streamable.P99Ms:F2} ms | {streamable.PerSecond:F0} | {november.P50Ms:F2} ms | {november.P99Ms:F2} ms | {november.PerSecond:F0} | {july.P50Ms:F2} ms | {july.P99Ms:F2} ms | {july.PerSecond:F0} | {november.P50Ms / streamable.P50Ms:F2}× / {july.P50Ms / streamable.P50Ms:F2}× | {november.PerSecond / streamable.PerSecond:F2}× / {july.PerSecond / streamable.PerSecond:F2}× | {streamable.CpuMsPerCall:F3} / {november.CpuMsPerCall:F3} / {july.CpuMsPerCall:F3} ms | {streamable.AllocatedKiBPerCall:F1} / {november.AllocatedKiBPerCall:F1} / {july.AllocatedKiBPerCall:F1} KiB | {unbatched.P50Ms:F2} ms, {unbatched.PerSecond:F0}, {unbatched.PerSecond / streamable.PerSecond:F2}×, {unbatched.CpuMsPerCall:F3} ms |"));
}

if (charts is not null)
{
    var xs = webhookRows.Select(r => r.Concurrency).ToList();
    Charts.Lines(Path.Combine(charts, "webhook-throughput.svg"), "Webhook echo: calls per second", "calls/s", xs,
    [
        ("SDK Streamable HTTP", [.. webhookRows.Select(r => r.Streamable.PerSecond)], true),
        ("AsyncMcp webhook 2025-11-25", [.. webhookRows.Select(r => r.November.PerSecond)], false),
        ("AsyncMcp webhook 2026-07-28", [.. webhookRows.Select(r => r.July.PerSecond)], false),
        ("AsyncMcp webhook 2025-11-25, one answer per POST", [.. webhookRows.Select(r => r.Unbatched.PerSecond)], true),
    ]);
}
}

if (Run("hybrid"))
{
Line();
Line("### tools/call round trip over the hybrid transport vs. the SDK's Streamable HTTP (both on Kestrel, loopback, this process)");
Line();
Line("Fast: `echo` on the hybrid server, answered on the POST's stream like any Streamable HTTP call (measures the hybrid layer's overhead). Webhook: the same function as a webhook tool: the POST is acknowledged at once and the result is POSTed (signed) to the client's own Kestrel listener and merged into the session.");
Line();
Line("| concurrency | calls | Streamable HTTP p50 | p99 | calls/s | hybrid fast p50 | p99 | calls/s | hybrid webhook 2025-11-25 p50 | p99 | calls/s | hybrid webhook 2026-07-28 p50 | p99 | calls/s | p50 ratio fast / webhook 2025 / webhook 2026 |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
foreach (var (concurrency, calls) in levels)
{
    var warmup = Warmup(calls);
    var streamable = await WebhookBench.MeasureStreamableHttpAsync("2025-11-25", concurrency, calls, warmup);
    var fast = await HybridBench.MeasureAsync("2025-11-25", "echo", concurrency, calls, warmup);
    var november = await HybridBench.MeasureAsync("2025-11-25", "echo_later", concurrency, calls, warmup);
    var july = await HybridBench.MeasureAsync(null, "echo_later", concurrency, calls, warmup);
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {calls} | {streamable.P50Ms:F2} ms | {streamable.P99Ms:F2} ms | {streamable.PerSecond:F0} | {fast.P50Ms:F2} ms | {fast.P99Ms:F2} ms | {fast.PerSecond:F0} | {november.P50Ms:F2} ms | {november.P99Ms:F2} ms | {november.PerSecond:F0} | {july.P50Ms:F2} ms | {july.P99Ms:F2} ms | {july.PerSecond:F0} | {fast.P50Ms / streamable.P50Ms:F2}× / {november.P50Ms / streamable.P50Ms:F2}× / {july.P50Ms / streamable.P50Ms:F2}× |"));
}
}

if (Run("proxy"))
{
Line();
Line("### The MCP Inspector's load test: directly over Streamable HTTP vs. through the proxy over SQS");
Line();
Line("`get-sum` on `@modelcontextprotocol/server-everything`, measured by the Inspector CLI's own `--load` (one HTTP session, calls in flight at once = concurrency). Direct: server-everything's Streamable HTTP. Chain: Inspector → `asyncmcp proxy --listen` → SQS (fauxqs) → `asyncmcp serve` → server-everything over stdio. Each after a warm-up run.");
Line();
Line("| concurrency | requests | direct ok | p50 | p90 | p99 | calls/s | chain ok | p50 | p90 | p99 | calls/s | p50 ratio | throughput ratio |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
var inspectorHome = Directory.CreateTempSubdirectory("asyncmcp-bench-inspector-");
try
{
    foreach (var (concurrency, requests) in quick ? new[] { (8, 80) } : new[] { (1, 200), (8, 400) })
    {
        var direct = await ProxyChainBench.DirectAsync(requests, concurrency, inspectorHome.FullName);
        var chain = await ProxyChainBench.ChainAsync(emulator, await Queue("proxy-req"), await Queue("proxy-resp"), requests, concurrency, inspectorHome.FullName);
        double P(JsonNode n, string key) => (double)n["latencyMs"]![key]!;
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {concurrency} | {requests} | {(int)direct["ok"]!} | {P(direct, "p50"):F1} ms | {P(direct, "p90"):F1} ms | {P(direct, "p99"):F1} ms | {(double)direct["throughput"]!:F0} | {(int)chain["ok"]!} | {P(chain, "p50"):F1} ms | {P(chain, "p90"):F1} ms | {P(chain, "p99"):F1} ms | {(double)chain["throughput"]!:F0} | {P(chain, "p50") / P(direct, "p50"):F2}× | {(double)chain["throughput"]! / (double)direct["throughput"]!:F2}× |"));
    }
}
finally
{
    inspectorHome.Delete(recursive: true);
}
}

if (Run("restart"))
{
Line();
Line("### Client processes run again and again on one response queue vs. a new queue each time");
Line();
Line("Each run is a new process, timed from start to exit: `asyncmcp call --tool echo` against an SQS server in this process (test MCP server, both revisions), or the MCP Inspector CLI calling `echo` through `asyncmcp proxy` (stdio). *Same queue*: every run uses one response queue, as a config file makes it; *fresh*: each run a new one; the two alternate (fresh, same, fresh, same, …) so that both see the same machine load. The first same-queue run finds the queue new, so the criterion is on runs 2 onwards: each within 1.5× the fresh median.");
Line();
Line("| client | runs | fresh median | fresh max | same queue, runs 2+ median | max | worst / fresh median | each within 1.5× | failed runs (fresh / same) |");
Line("|---|---:|---:|---:|---:|---:|---:|---|---|");
    var runs = quick ? 4 : 10;
    var restartRequests = await Queue("restart-req");
    await using var restartServer = new SqsServerTransport(sqs, new SqsServerTransportOptions { RequestQueueUrl = restartRequests }, serverOptions);
    await restartServer.StartAsync();
    var restartHome = Directory.CreateTempSubdirectory("asyncmcp-bench-inspector-");
    try
    {
        var clients = new (string Name, Func<Task<(RestartBench.Series Fresh, RestartBench.Series Same)>> Measure)[]
        {
            ("`call` (default revision)", () => RestartBench.CallAsync(emulator, restartRequests, [], runs)),
            ("`call --protocol-version 2025-11-25`", () => RestartBench.CallAsync(emulator, restartRequests, ["--protocol-version", "2025-11-25"], runs)),
            ("`call --protocol-version 2026-07-28`", () => RestartBench.CallAsync(emulator, restartRequests, ["--protocol-version", "2026-07-28"], runs)),
            ("Inspector CLI through `proxy`", () => RestartBench.InspectorAsync(emulator, restartRequests, runs, restartHome.FullName)),
        };
        foreach (var (name, measure) in clients)
        {
            var (fresh, same) = await measure();
            var freshMedian = Median(fresh.Seconds);
            var followUps = same.Seconds.Skip(1).ToList();
            var worst = followUps.Max();
            Line(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {runs} | {freshMedian:F2} s | {fresh.Seconds.Max():F2} s | {Median(followUps):F2} s | {worst:F2} s | {worst / freshMedian:F2}× | {(worst <= 1.5 * freshMedian ? "yes" : "no")} | {fresh.Failures} / {same.Failures} |"));
            Console.Error.WriteLine($"{name}: fresh [{string.Join(", ", fresh.Seconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}] same [{string.Join(", ", same.Seconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}]");
        }
    }
    finally
    {
        restartHome.Delete(recursive: true);
    }
}

if (Run("memory"))
{
Line();
Line("### Memory per idle session (1,000 sessions open)");
Line();
    var requestQueue = await Queue("mem-req");
    var responseQueue = await Queue("mem-resp");
    await using var server = new SqsServerTransport(sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue }, serverOptions);
    await server.StartAsync();
    var before = SettledManagedMemory();
    const int sessions = 1000;
    for (var batch = 0; batch < sessions / 10; batch++)
    {
        await sqs.SendMessageBatchAsync(new SendMessageBatchRequest
        {
            QueueUrl = requestQueue,
            Entries = [.. Enumerable.Range(0, 10).Select(i => new SendMessageBatchRequestEntry
            {
                Id = i.ToString(CultureInfo.InvariantCulture),
                MessageBody = InitializeBody(responseQueue),
                MessageAttributes = new() { ["MessageType"] = new() { DataType = "String", StringValue = "jsonrpc" }, ["ClientId"] = new() { DataType = "String", StringValue = $"mem-{batch}-{i}" } },
            })],
        });
    }

    var wait = Stopwatch.StartNew();
    while (server.Dispatcher!.SessionCount < sessions && wait.Elapsed < TimeSpan.FromMinutes(2))
    {
        await Task.Delay(50);
    }

    while (server.Dispatcher!.PendingRequestCount > 0 && wait.Elapsed < TimeSpan.FromMinutes(2))
    {
        await Task.Delay(50);
    }

    var after = SettledManagedMemory();
    Line(string.Create(CultureInfo.InvariantCulture,
        $"{server.Dispatcher!.SessionCount} sessions: managed heap grew by {(after - before) / 1024.0 / 1024.0:F1} MiB, **{(after - before) / (double)server.Dispatcher!.SessionCount / 1024.0:F1} KiB per idle session** (GC.GetTotalMemory after full collections; includes the SDK's McpServer per session)."));
}


if (Run("dispose"))
{
Line();
Line("### Disposing a server whose 20 s long poll is in flight");
Line();
    var timings = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        var server = new SqsServerTransport(sqs, new SqsServerTransportOptions { RequestQueueUrl = await Queue("dispose"), WaitTime = TimeSpan.FromSeconds(20) }, serverOptions);
        await server.StartAsync();
        await Task.Delay(1000); // let the receive loop settle into its long poll
        var stopwatch = Stopwatch.StartNew();
        await server.DisposeAsync();
        timings.Add(stopwatch.Elapsed.TotalMilliseconds);
    }

    timings.Sort();
    Line(string.Create(CultureInfo.InvariantCulture,
        $"5 runs: median **{timings[2]:F1} ms**, max {timings[^1]:F1} ms (target: under 500 ms)."));
}


if (Run("delivery"))
{
Line();
Line("### Delivery guarantees on and off, 2025-11-25 sessions");
Line();
Line("*On* is the default: request deleted only after its answer reached SQS, leases renewed, answers remembered for 15 minutes to answer redeliveries, Polly retries. *Off* keeps what cannot be turned off (delete after the answer, lease renewal) and disables the answer cache (`DuplicateWindow = 0`) and retries (`SendRetry.MaxAttempts = 1`).");
Line();
Line("| concurrency | calls | raw echo calls/s | guarantees on p50 | p99 | calls/s | guarantees off p50 | p99 | calls/s | on / off throughput | on / raw throughput |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
foreach (var (concurrency, calls) in levels.Where(l => l.Item1 != 8))
{
    var warmup = Warmup(calls);
    LatencyResult raw;
    await using (var echo = new RawSqsEcho(sqs, await Queue("raw-req"), await Queue("raw-resp")))
    {
        raw = await LatencyRecorder.MeasureAsync(echo.RoundTripAsync, concurrency, calls, warmup);
    }

    var on = await MeasureTransportAsync("2025-11-25", concurrency, calls, warmup);
    var off = await MeasureTransportAsync("2025-11-25", concurrency, calls, warmup, o =>
    {
        o.DuplicateWindow = TimeSpan.Zero;
        o.SendRetry.MaxAttempts = 1;
    }, c => c.SendRetry.MaxAttempts = 1);
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {calls} | {raw.PerSecond:F0} | {on.P50Ms:F2} ms | {on.P99Ms:F2} ms | {on.PerSecond:F0} | {off.P50Ms:F2} ms | {off.P99Ms:F2} ms | {off.PerSecond:F0} | {on.PerSecond / off.PerSecond:F2}× | {on.PerSecond / raw.PerSecond:F2}× |"));
}

}

if (Run("s3"))
{
Line();
Line("### A 2 MiB argument and result through S3 (claim check), concurrency 1");
Line();
    var bucket = "bench-" + Guid.NewGuid().ToString("N")[..12];
    await s3.PutBucketAsync(bucket);
    var offload = new AsyncMcp.Aws.LargePayloads.SqsLargePayloadOptions { BucketName = bucket };
    var big = new string('x', 2 * 1024 * 1024);
    var calls = quick ? 5 : 30;
    var small = await MeasureTransportAsync("2025-11-25", 1, calls, 3, o => o.LargePayloads = offload, c => c.LargePayloads = offload);
    var large = await MeasureTransportAsync("2025-11-25", 1, calls, 3, o => o.LargePayloads = offload, c => c.LargePayloads = offload, big);
    Line(string.Create(CultureInfo.InvariantCulture,
        $"{calls} calls each: 2 MiB each way p50 **{large.P50Ms:F1} ms**, p99 {large.P99Ms:F1} ms; the same server with a 5-byte message p50 {small.P50Ms:F1} ms."));
}


if (Run("sns"))
{
Line();
Line("### tools/call `echo` round trip over SNS+SQS vs. a raw publish→queue→reply echo");
Line();
Line($"Each side has its own SQS and SNS clients, counted at their HTTP layer; CPU, warm-up and rounds ({setupRounds}, interleaved, pooled) as in the SQS table.");
Line();
Line("| concurrency | calls | raw SNS echo p50 | raw p99 | raw calls/s | raw echo with AsyncMcp's 7 attributes calls/s | AsyncMcp 2025-11-25 p50 | p99 | calls/s | AsyncMcp 2026-07-28 p50 | p99 | calls/s | p50 ratio (2025 / 2026) | throughput ratio to the plain raw echo (2025 / 2026) | to the 7-attribute raw echo (2025 / 2026) |");
Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|");
var snsRows = new List<string>();
var snsCostRows = new List<string>();
var snsCosts = new List<(int Concurrency, CostResult Raw, CostResult Transport, CostResult July)>();
foreach (var (concurrency, calls) in levels)
{
    var warmup = Warmup(calls);
    // Every run has topics and queues of its own: a long poll the raw echo abandons when it stops is still served by
    // the emulator and would take the next run's message for a visibility timeout.
    async Task<CostResult> MeasureRawAsync(bool wireAttributes)
    {
        var requestTopic = await snsProvisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("raw-req-topic"));
        var workerQueue = await snsProvisioner.EnsureSubscribedQueueAsync(requestTopic, FauxqsEmulator.UniqueName("raw-worker"));
        var replyTopic = await snsProvisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("raw-reply-topic"));
        var replyQueue = await snsProvisioner.EnsureSubscribedQueueAsync(replyTopic, FauxqsEmulator.UniqueName("raw-reply"));
        using var clientCounter = new AwsRequestCounter();
        using var serverCounter = new AwsRequestCounter();
        using var clientSqs = clientCounter.CreateSqsClient(emulator.ServiceUrl);
        using var clientSns = CountedSns(clientCounter);
        await using var echo = new RawSnsEcho(clientSqs, clientSns, requestTopic, workerQueue.Queue.QueueUrl, replyTopic, replyQueue.Queue.QueueUrl) { WireAttributes = wireAttributes };
        return await costMeter.MeasureAsync(clientCounter, serverCounter, echo.RoundTripAsync, concurrency, calls, warmup);
    }

    async Task<CostResult> MeasureTransportCostAsync(string? protocol)
    {
        var serverTopic = await snsProvisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("bench-server-topic"));
        var serverQueue = await snsProvisioner.EnsureSubscribedQueueAsync(serverTopic, FauxqsEmulator.UniqueName("bench-server"));
        var clientTopic = await snsProvisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("bench-client-topic"));
        var clientQueue = await snsProvisioner.EnsureSubscribedQueueAsync(clientTopic, FauxqsEmulator.UniqueName("bench-client"));
        using var clientCounter = new AwsRequestCounter();
        using var serverCounter = new AwsRequestCounter();
        using var clientSqs = clientCounter.CreateSqsClient(emulator.ServiceUrl);
        using var clientSns = CountedSns(clientCounter);
        using var serverSqs = serverCounter.CreateSqsClient(emulator.ServiceUrl);
        using var serverSns = CountedSns(serverCounter);
        await using var server = new AsyncMcp.Aws.SnsSqs.SnsSqsServerTransport(serverSqs, serverSns, new AsyncMcp.Aws.SnsSqs.SnsSqsServerTransportOptions { ServerQueueUrl = serverQueue.Queue.QueueUrl, MaxConcurrentRequests = 128 }, serverOptions);
        await server.StartAsync();
        await using var client = await McpClient.CreateAsync(
            new AsyncMcp.Aws.SnsSqs.SnsSqsClientTransport(clientSqs, clientSns, new AsyncMcp.Aws.SnsSqs.SnsSqsClientTransportOptions { ServerTopicArn = serverTopic, ClientTopicArn = clientTopic, ClientQueueUrl = clientQueue.Queue.QueueUrl }),
            new McpClientOptions { ProtocolVersion = protocol });
        return await costMeter.MeasureAsync(clientCounter, serverCounter, _ => EchoCall.RunAsync(client), concurrency, calls, warmup);
    }

    var results = await Interleaved(CostResult.Combine, () => MeasureRawAsync(false), () => MeasureRawAsync(true), () => MeasureTransportCostAsync("2025-11-25"), () => MeasureTransportCostAsync(null));
    var (raw, rawWithAttributes, transport, july) = (results[0], results[1].Latency, results[2], results[3]);

    snsCosts.Add((concurrency, raw, transport, july));
    var (r, t, j) = (raw.Latency, transport.Latency, july.Latency);
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {calls} | {r.P50Ms:F2} ms | {r.P99Ms:F2} ms | {r.PerSecond:F0} | {rawWithAttributes.PerSecond:F0} | {t.P50Ms:F2} ms | {t.P99Ms:F2} ms | {t.PerSecond:F0} | {j.P50Ms:F2} ms | {j.P99Ms:F2} ms | {j.PerSecond:F0} | {t.P50Ms / r.P50Ms:F2}× / {j.P50Ms / r.P50Ms:F2}× | {t.PerSecond / r.PerSecond:F2}× / {j.PerSecond / r.PerSecond:F2}× | {t.PerSecond / rawWithAttributes.PerSecond:F2}× / {j.PerSecond / rawWithAttributes.PerSecond:F2}× |"));
    snsCostRows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {raw.RequestsPerCall:F2} / {transport.RequestsPerCall:F2} / {july.RequestsPerCall:F2} | {raw.CpuMsPerCall:F3} / {transport.CpuMsPerCall:F3} / {july.CpuMsPerCall:F3} ms | {transport.CpuMsPerCall / raw.CpuMsPerCall:F2}× / {july.CpuMsPerCall / raw.CpuMsPerCall:F2}× | {raw.EmulatorCpuMsPerCall:F3} / {transport.EmulatorCpuMsPerCall:F3} / {july.EmulatorCpuMsPerCall:F3} ms | {r.AllocatedKiBPerCall:F1} / {t.AllocatedKiBPerCall:F1} / {j.AllocatedKiBPerCall:F1} KiB |"));
    snsRows.Add($"| {concurrency} | raw SNS echo | {raw.Breakdown(server: false)} | {raw.Breakdown(server: true)} |");
    snsRows.Add($"| {concurrency} | AsyncMcp 2025-11-25 | {transport.Breakdown(server: false)} | {transport.Breakdown(server: true)} |");
    snsRows.Add($"| {concurrency} | AsyncMcp 2026-07-28 | {july.Breakdown(server: false)} | {july.Breakdown(server: true)} |");
}

Line();
Line("| concurrency | SNS + SQS requests per call: raw / 2025-11-25 / 2026-07-28 | CPU per call, client + server: raw / 2025-11-25 / 2026-07-28 | CPU ratio (2025 / 2026) | emulator CPU per call | allocated per call |");
Line("|---:|---|---|---|---|---|");
snsCostRows.ForEach(row => Line(row));
Line();
Line("| concurrency | set-up | client requests per call by operation | server requests per call by operation (the raw echo's worker shares the caller's clients) |");
Line("|---:|---|---|---|");
snsRows.ForEach(row => Line(row));
if (charts is not null)
{
    var xs = snsCosts.Select(c => c.Concurrency).ToList();
    Charts.Lines(Path.Combine(charts, "sns-throughput.svg"), "SNS+SQS echo: calls per second", "calls/s", xs,
    [
        ("raw SNS echo", [.. snsCosts.Select(c => c.Raw.Latency.PerSecond)], true),
        ("AsyncMcp SNS+SQS 2025-11-25", [.. snsCosts.Select(c => c.Transport.Latency.PerSecond)], false),
        ("AsyncMcp SNS+SQS 2026-07-28", [.. snsCosts.Select(c => c.July.Latency.PerSecond)], false),
    ]);
}
}

if (Run("scale"))
{
Line();
Line("### Several workers on one queue");
Line();
var pathRounds = quick ? 1 : 3;
Line($"A 2025-11-25 session calling `echo`, two workers in this process unless named otherwise. *Direct*: our client sends the session's messages to the holder's own queue. *Handed over*: the client sends to the shared queue and only the other worker receives from it (the holder's polls of the shared queue go to an empty queue once the session is open), so every call is handed over. *Shared queue*: the client sends to the shared queue and both workers receive from it. *Workers disabled*: one server without an own queue. Each path runs once unmeasured first; then {pathRounds} round{(pathRounds == 1 ? "" : "s")}, the paths one after another in each (new queues and servers each time, 10 % warm-up calls), pooled. SQS requests are counted over the measured calls, the SDK's retries not counted.");
Line();
Line("| path | concurrency | calls | p50 | p95 | p99 | calls/s | p50 ÷ direct | handed over | client requests per call | server requests per call |");
Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
var scale = new ScaleOutBench(emulator, sqs, serverOptions);
(string Name, Func<Task<ScaleOutBench.PathResult>> Measure)[] Paths(int concurrency, int calls, int warmup) =>
[
    ("direct", () => scale.DirectAsync(concurrency, calls, warmup)),
    ("handed over", () => scale.HandedOverAsync(concurrency, calls, warmup)),
    ("shared queue", () => scale.SharedQueueAsync(concurrency, calls, warmup)),
    ("workers disabled (1 server)", () => scale.WorkersDisabledAsync(concurrency, calls, warmup)),
];

// So that the first path measured does not pay for compiling what all of them run.
foreach (var (_, measure) in Paths(8, quick ? 80 : 400, 20))
{
    await measure();
}

var breakdown = new List<string>();
foreach (var (concurrency, calls) in quick ? new[] { (1, 100), (16, 320) } : new[] { (1, 400), (16, 1200) })
{
    var rounds = new Dictionary<string, List<ScaleOutBench.PathResult>>();
    for (var round = 0; round < pathRounds; round++)
    {
        foreach (var (name, measure) in Paths(concurrency, calls, Warmup(calls)))
        {
            (rounds.TryGetValue(name, out var list) ? list : rounds[name] = []).Add(await measure());
        }
    }

    double? directP50 = null;
    foreach (var (name, runs) in rounds)
    {
        var result = ScaleOutBench.PathResult.Combine(runs);
        var total = result.Latency.Calls;
        directP50 ??= result.Latency.P50Ms;
        Line(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {concurrency} | {total} | {result.Latency.P50Ms:F2} ms | {result.Latency.P95Ms:F2} ms | {result.Latency.P99Ms:F2} ms | {result.Latency.PerSecond:F0} | {result.Latency.P50Ms / directP50:F2}× | {result.HandedOver} ({100.0 * result.HandedOver / total:F0} %) | {result.ClientRequests.Values.Sum() / (double)total:F2} | {result.ServerRequests.Values.Sum() / (double)total:F2} |"));
        breakdown.Add($"| {name} | {concurrency} | {Operations(result.ClientRequests, total)} | {Operations(result.ServerRequests, total)} |");
    }
}

Line();
Line("| path | concurrency | client requests per call by operation | server requests per call by operation |");
Line("|---|---:|---|---|");
breakdown.ForEach(row => Line(row));
Line();
var (scaleClients, scaleInFlight, scaleCalls, scaleRounds) = quick ? (8, 32, 640, 1) : (16, 64, 2000, 2);
Line(string.Create(CultureInfo.InvariantCulture, $"Throughput: 1 to 3 worker processes (`AsyncMcp.TestServerHost`, new ones for each row) on one queue, {scaleClients} clients in this process (each its own response queue; 2025-11-25 clients follow their session's address), {scaleInFlight} calls in flight spread evenly over them, after {scaleCalls / 5} warm-up calls; {scaleRounds} round{(scaleRounds == 1 ? "" : "s")} of all rows, pooled. CPU is process CPU time (`Process.TotalProcessorTime`) over the measured calls ÷ calls; *cores busy* is the CPU time of all three ÷ wall time, of {Environment.ProcessorCount} cores."));
Line();
Line("| workers | revision | calls | p50 | p99 | calls/s | worker CPU per call | client CPU per call | emulator CPU per call | cores busy | sessions per worker |");
Line("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
var configurations = new[] { 1, 2, 3 }.SelectMany(workers => new[] { "2026-07-28", "2025-11-25" }, (workers, protocol) => (workers, protocol)).ToList();
var throughput = configurations.ToDictionary(c => c, _ => new List<ScaleOutBench.ThroughputResult>());
for (var round = 0; round < scaleRounds; round++)
{
    foreach (var (workers, protocol) in configurations)
    {
        throughput[(workers, protocol)].Add(await scale.ThroughputAsync(workers, protocol, scaleClients, scaleInFlight, scaleCalls, scaleCalls / 5));
    }
}

foreach (var ((workers, protocol), runs) in throughput)
{
    var result = ScaleOutBench.ThroughputResult.Combine(runs);
    var total = (double)result.Latency.Calls;
    Line(string.Create(CultureInfo.InvariantCulture,
        $"| {workers} | {protocol} | {result.Latency.Calls} | {result.Latency.P50Ms:F2} ms | {result.Latency.P99Ms:F2} ms | {result.Latency.PerSecond:F0} | {result.WorkerCpu.TotalMilliseconds / total:F2} ms | {result.ClientCpu.TotalMilliseconds / total:F2} ms | {result.EmulatorCpu.TotalMilliseconds / total:F2} ms | {result.CoresBusy:F2} | {result.Sessions} |"));
}

static string Operations(Dictionary<string, long> counts, int calls) => string.Join(", ", counts
    .Where(p => p.Value / (double)calls >= 0.005)
    .OrderBy(p => p.Key, StringComparer.Ordinal)
    .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value / (double)calls:F2}")));
}

if (Run("tasks"))
{
    Line();
    Line("### Durable tasks: task creation, tasks/get and tasks run to completion over SQS, kept in DynamoDB (dynalite)");
    Line();
    await DurableTasksBench.RunAsync(emulator, sqs, quick, text => Line(text));
}

if (output is not null)
{
    await File.WriteAllTextAsync(output, report.ToString());
}

async Task<LatencyResult> MeasureTransportAsync(
    string? protocol,
    int concurrency,
    int calls,
    int warmup,
    Action<SqsServerTransportOptions>? configureServer = null,
    Action<SqsClientTransportOptions>? configureClient = null,
    string message = "hello")
{
    var requestQueue = await Queue("bench-req");
    var responseQueue = await Queue("bench-resp");
    var options = new SqsServerTransportOptions { RequestQueueUrl = requestQueue, MaxConcurrentRequests = 128 };
    configureServer?.Invoke(options);
    await using var server = new SqsServerTransport(sqs, options, serverOptions, s3: s3);
    await server.StartAsync();
    var clientOptions = new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueue, ResponseQueueUrl = responseQueue };
    configureClient?.Invoke(clientOptions);
    await using var client = await McpClient.CreateAsync(
        new SqsClientTransport(sqs, clientOptions, s3: s3),
        new McpClientOptions { ProtocolVersion = protocol });
    var arguments = new Dictionary<string, object?> { ["message"] = message };
    var expected = "Echo: " + message;
    return await LatencyRecorder.MeasureAsync(
        async _ =>
        {
            var result = await client.CallToolAsync("echo", arguments);
            if (result.Content is not [TextContentBlock { Text: var text }] || text != expected)
            {
                throw new InvalidOperationException("wrong answer");
            }
        },
        concurrency,
        calls,
        warmup);
}

AsyncMcp.Aws.Sns.SnsQueryClient CountedSns(AwsRequestCounter counter) =>
    new(new AsyncMcp.Aws.Sns.SnsQueryClientOptions { ServiceUrl = emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials }, counter.CreateHttpClient());

async Task<CostResult> MeasureRawSqsCostAsync(int concurrency, int calls, int warmup)
{
    using var clientCounter = new AwsRequestCounter();
    using var serverCounter = new AwsRequestCounter();
    using var clientSqs = clientCounter.CreateSqsClient(emulator.ServiceUrl);
    using var serverSqs = serverCounter.CreateSqsClient(emulator.ServiceUrl);
    await using var echo = new RawSqsEcho(clientSqs, await Queue("raw-req"), await Queue("raw-resp"), serverSqs);
    return await costMeter.MeasureAsync(clientCounter, serverCounter, echo.RoundTripAsync, concurrency, calls, warmup);
}

async Task<CostResult> MeasureSqsCostAsync(string? protocol, int concurrency, int calls, int warmup)
{
    using var clientCounter = new AwsRequestCounter();
    using var serverCounter = new AwsRequestCounter();
    using var clientSqs = clientCounter.CreateSqsClient(emulator.ServiceUrl);
    using var serverSqs = serverCounter.CreateSqsClient(emulator.ServiceUrl);
    var requestQueue = await Queue("bench-req");
    var responseQueue = await Queue("bench-resp");
    await using var server = new SqsServerTransport(serverSqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue, MaxConcurrentRequests = 128 }, serverOptions);
    await server.StartAsync();
    await using var client = await McpClient.CreateAsync(
        new SqsClientTransport(clientSqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueue, ResponseQueueUrl = responseQueue }),
        new McpClientOptions { ProtocolVersion = protocol });
    return await costMeter.MeasureAsync(clientCounter, serverCounter, _ => EchoCall.RunAsync(client), concurrency, calls, warmup);
}

// Where the time of a call goes at concurrency 1: the median of each segment of the calls' timelines, per set-up.
void TimelineTable(IReadOnlyList<(string Name, CostResult Result)> setups)
{
    if (setups.Count == 0)
    {
        return;
    }

    Line();
    Line("Where the time of a call goes at concurrency 1: each call's timestamps at the points below (its requests on the wire at the HTTP layer; the MCP SDK's handling by its message filters), median of each segment over the measured calls, in µs. The raw echo has no MCP handler, so its server is one segment; medians of segments do not add up to the median call exactly.");
    Line();
    var segments = setups.Select(s => CallTimeline.Segments(s.Result.Timelines).ToDictionary(x => (x.From, x.To), x => x.MedianMicroseconds)).ToList();
    var rows = segments.SelectMany(s => s.Keys).Distinct().OrderBy(k => k.From).ThenBy(k => k.To).ToList();
    Line("| segment | " + string.Join(" | ", setups.Select(s => s.Name)) + " |");
    Line("|---|" + string.Concat(setups.Select(_ => "---:|")));
    foreach (var (from, to) in rows)
    {
        Line($"| {from} → {to} | " + string.Join(" | ", segments.Select(s => s.TryGetValue((from, to), out var v) ? v.ToString("F0", CultureInfo.InvariantCulture) : "")) + " |");
    }

    Line("| the whole call (p50) | " + string.Join(" | ", setups.Select(s => (s.Result.Latency.P50Ms * 1000).ToString("F0", CultureInfo.InvariantCulture))) + " |");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static long SettledManagedMemory()
{
    for (var i = 0; i < 3; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    return GC.GetTotalMemory(forceFullCollection: true);
}

static string InitializeBody(string responseQueue) =>
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"},\"_meta\":{\"responseQueueUrl\":\"" + responseQueue + "\"}}}";

/// <summary>Disposes a client, then its server.</summary>
internal sealed class Both(IAsyncDisposable client, IAsyncDisposable server) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await client.DisposeAsync();
        await server.DisposeAsync();
    }
}
