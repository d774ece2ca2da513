using System.Diagnostics;

namespace AsyncMcp.Benchmarks;

/// <summary>Runs a round trip from several concurrent callers and reports percentiles and throughput.</summary>
internal static class LatencyRecorder
{
    /// <summary>Far above any call's time; a call that takes longer is stuck, and the benchmark fails instead of hanging.</summary>
    private static readonly TimeSpan s_callDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="warmupCalls"/> unmeasured, then <paramref name="totalCalls"/> measured calls, <paramref name="concurrency"/> at a time.</summary>
    /// <param name="roundTrip">One call, given its index.</param>
    /// <param name="concurrency">Calls in flight at once.</param>
    /// <param name="totalCalls">Measured calls.</param>
    /// <param name="warmupCalls">Unmeasured calls first.</param>
    /// <param name="measuring">Called just before the measured calls start (after the warm-up).</param>
    /// <param name="measured">Called just after the measured calls end.</param>
    public static async Task<LatencyResult> MeasureAsync(Func<int, Task> roundTrip, int concurrency, int totalCalls, int warmupCalls, Action? measuring = null, Action? measured = null)
    {
        await RunAsync(roundTrip, concurrency, warmupCalls, null);
        var samples = new double[totalCalls];
        measuring?.Invoke();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var (allocatedBefore, gen2Before) = (GC.GetTotalAllocatedBytes(), GC.CollectionCount(2));
        var stopwatch = Stopwatch.StartNew();
        await RunAsync(roundTrip, concurrency, totalCalls, samples);
        stopwatch.Stop();
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var (allocated, gen2) = (GC.GetTotalAllocatedBytes() - allocatedBefore, GC.CollectionCount(2) - gen2Before);
        measured?.Invoke();
        Array.Sort(samples);
        return FromSamples(concurrency, samples, stopwatch.Elapsed.TotalSeconds) with
        {
            CpuMsPerCall = cpu.TotalMilliseconds / totalCalls,
            AllocatedKiBPerCall = allocated / 1024.0 / totalCalls,
            Gen2Collections = gen2,
        };
    }

    /// <summary>The calls of several runs taken together, as one run of all their calls in all their time.</summary>
    public static LatencyResult Combine(IReadOnlyCollection<LatencyResult> runs) =>
        FromSamples(runs.First().Concurrency, [.. runs.SelectMany(r => r.Samples).Order()], runs.Sum(r => r.Seconds)) with
        {
            CpuMsPerCall = runs.Sum(r => r.CpuMsPerCall * r.Calls) / runs.Sum(r => r.Calls),
            AllocatedKiBPerCall = runs.Sum(r => r.AllocatedKiBPerCall * r.Calls) / runs.Sum(r => r.Calls),
            Gen2Collections = runs.Sum(r => r.Gen2Collections),
        };

    private static LatencyResult FromSamples(int concurrency, double[] sorted, double seconds) =>
        new(concurrency, sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Length / seconds, Percentile(sorted, 0.95))
        {
            Samples = sorted,
            Seconds = seconds,
        };

    private static async Task RunAsync(Func<int, Task> roundTrip, int concurrency, int calls, double[]? samples)
    {
        var next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < calls)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await roundTrip(index).WaitAsync(s_callDeadline);
                }
                catch (TimeoutException)
                {
                    throw new TimeoutException($"Call {index} (concurrency {concurrency}) did not finish within {s_callDeadline.TotalSeconds:F0} s: a message was lost or held; the run stops rather than hang.");
                }
                if (samples is not null)
                {
                    samples[index] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }
        }));
        await Task.WhenAll(workers);
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

internal sealed record LatencyResult(int Concurrency, int Calls, double P50Ms, double P99Ms, double PerSecond, double P95Ms)
{
    /// <summary>Every call's time in milliseconds, sorted.</summary>
    public double[] Samples { get; init; } = [];

    /// <summary>The wall time of all the calls.</summary>
    public double Seconds { get; init; }

    /// <summary>This process's CPU time over the measured calls ÷ calls (every side that runs in this process).</summary>
    public double CpuMsPerCall { get; init; }

    /// <summary>Bytes allocated in this process over the measured calls ÷ calls, in KiB.</summary>
    public double AllocatedKiBPerCall { get; init; }

    /// <summary>Full (generation 2) collections during the measured calls.</summary>
    public int Gen2Collections { get; init; }
}
