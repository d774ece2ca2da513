using System.Diagnostics;
using System.Globalization;
using AsyncMcp.Testing;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// Measures what calls cost besides time: the AWS API requests of the calling side and of the serving side (each with
/// its own counted clients, <see cref="AwsRequestCounter"/>), the CPU time of this process (both sides run in it) and
/// the CPU time of the emulator, over the measured calls only (not the warm-up).
/// </summary>
internal sealed class CostMeter(int emulatorProcessId)
{
    public async Task<CostResult> MeasureAsync(AwsRequestCounter client, AwsRequestCounter server, Func<int, Task> roundTrip, int concurrency, int calls, int warmup)
    {
        using var emulator = Process.GetProcessById(emulatorProcessId);
        Dictionary<string, long> clientBefore = [], serverBefore = [], clientAfter = [], serverAfter = [];
        TimeSpan emulatorBefore = default, emulatorAfter = default;

        // One call at a time: its timeline too (the measured calls only).
        var timeline = concurrency == 1 ? new CallTimeline() : null;
        Func<int, Task> measuredRoundTrip = timeline is null ? roundTrip : async index =>
        {
            var recording = CallTimeline.Current;
            recording?.Begin();
            await roundTrip(index).ConfigureAwait(false);
            recording?.Mark(CallTimeline.Point.CallReturned);
        };
        var latency = await LatencyRecorder.MeasureAsync(
            measuredRoundTrip,
            concurrency,
            calls,
            warmup,
            measuring: () =>
            {
                (clientBefore, serverBefore) = (client.Snapshot(), server.Snapshot());
                emulator.Refresh();
                emulatorBefore = emulator.TotalProcessorTime;
                if (timeline is not null)
                {
                    client.Observer = (operation, response) => timeline.Observe(server: false, operation, response);
                    server.Observer = (operation, response) => timeline.Observe(server: true, operation, response);
                    CallTimeline.Current = timeline;
                }
            },
            measured: () =>
            {
                (client.Observer, server.Observer, CallTimeline.Current) = (null, null, null);
                emulator.Refresh();
                emulatorAfter = emulator.TotalProcessorTime;
                (clientAfter, serverAfter) = (client.Snapshot(), server.Snapshot());
            });
        return new CostResult(
            latency,
            AwsRequestCounter.Difference(clientAfter, clientBefore),
            AwsRequestCounter.Difference(serverAfter, serverBefore),
            (emulatorAfter - emulatorBefore).TotalMilliseconds / calls)
        {
            Timelines = timeline is null ? [] : [timeline],
        };
    }
}

/// <summary>One measured set-up: its latency and throughput, its requests (by operation, over all measured calls) and CPU per call.</summary>
internal sealed record CostResult(LatencyResult Latency, Dictionary<string, long> ClientRequests, Dictionary<string, long> ServerRequests, double EmulatorCpuMsPerCall)
{
    /// <summary>This process's CPU per call (client and server both run in it), as the latency run measured it.</summary>
    public double CpuMsPerCall => Latency.CpuMsPerCall;

    /// <summary>The timelines of the calls, at concurrency 1 (one per run).</summary>
    public IReadOnlyList<CallTimeline> Timelines { get; init; } = [];

    /// <summary>Several runs of one set-up taken together: all their calls, requests and CPU.</summary>
    public static CostResult Combine(IReadOnlyCollection<CostResult> runs)
    {
        var calls = runs.Sum(r => r.Latency.Calls);
        return new CostResult(
            LatencyRecorder.Combine([.. runs.Select(r => r.Latency)]),
            Sum(runs.Select(r => r.ClientRequests)),
            Sum(runs.Select(r => r.ServerRequests)),
            runs.Sum(r => r.EmulatorCpuMsPerCall * r.Latency.Calls) / calls)
        {
            Timelines = [.. runs.SelectMany(r => r.Timelines)],
        };

        static Dictionary<string, long> Sum(IEnumerable<Dictionary<string, long>> counts) => counts
            .SelectMany(c => c)
            .GroupBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(p => p.Value), StringComparer.Ordinal);
    }

    public double RequestsPerCall => (ClientRequests.Values.Sum() + ServerRequests.Values.Sum()) / (double)Latency.Calls;

    /// <summary>Requests per call of the operations <paramref name="operation"/> selects.</summary>
    public double PerCall(Func<string, bool> operation) =>
        (ClientRequests.Where(p => operation(p.Key)).Sum(p => p.Value) + ServerRequests.Where(p => operation(p.Key)).Sum(p => p.Value)) / (double)Latency.Calls;

    /// <summary>"SendMessage 1.00, ReceiveMessage 0.25, …" for one side.</summary>
    public string Breakdown(bool server) => string.Join(", ", (server ? ServerRequests : ClientRequests)
        .Where(p => p.Value / (double)Latency.Calls >= 0.005)
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value / (double)Latency.Calls:F2}")));
}
