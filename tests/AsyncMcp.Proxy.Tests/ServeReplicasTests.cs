using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.SQS.Model;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Several <c>asyncmcp serve</c> processes (replicas) on one request queue in front of server-everything, with no flag
/// beyond what one of them needs, and many <c>asyncmcp call</c> processes at once, on both protocol revisions: every call
/// succeeds wherever its session lands (the user-reported failure was "Session … is unknown or has expired" for half of
/// them); a replica stopped by SIGTERM drains what it runs, closes its sessions with a notice and deletes its own queue;
/// one killed outright has its queue removed by the others. Every process is started here and ended by its process id.
/// </summary>
public sealed partial class ServeReplicasTests(BridgeEmulator emulator)
{
    private const string LongTool = "trigger-long-running-operation";
    private const string November = "2025-11-25";

    /// <summary>Beyond this a call counts as hung: far more than a call takes, even after waiting out a message hidden by a gone process's poll.</summary>
    private static readonly TimeSpan s_callDeadline = TimeSpan.FromSeconds(120);

    private readonly CliProcess _cli = new(emulator);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    [Fact]
    public async Task Three_replicas_on_one_queue_serve_every_call_on_both_revisions_wherever_its_session_lands()
    {
        var requestQueue = FauxqsEmulator.UniqueName("replicas");
        var replicas = await StartReplicasAsync(3, ["--request-queue", requestQueue]);
        try
        {
            Assert.Equal(3, replicas.Select(r => r.WorkerId).Distinct().Count());

            // 8 calls on the default revision (2026-07-28, falling back to initialize) and 8 on 2025-11-25, 4 at a time.
            var runs = await RunCallsAsync(
                Enumerable.Range(0, 16).Select(i => new CallSpec(
                    $"call {i} ({(i % 2 == 0 ? "default" : November)})",
                    ["--request-queue", requestQueue, "--response-queue", FauxqsEmulator.UniqueName("replicas-resp"), .. (i % 2 == 0 ? Array.Empty<string>() : ["--protocol-version", November])],
                    Duration: 1,
                    Steps: 2)).ToList(),
                concurrency: 4);

            Describe(replicas, runs);
            foreach (var run in runs)
            {
                AssertSucceeded(run);
                Assert.Contains(run.WorkerId, replicas.Select(r => r.WorkerId));

                // The client sent the session's later messages straight to the worker holding it.
                Assert.Equal(run.WorkerId, HeldBy().Match(run.Output).Groups[1].Value);
            }

            Assert.True(runs.Select(r => r.WorkerId).Distinct().Count() > 1, "every session landed on one replica");
            foreach (var replica in replicas)
            {
                AssertLinesNameTheWorker(replica);
                Assert.False(replica.Process.HasExited, $"replica {replica.WorkerId} exited: {replica.Process.Output}");
            }
        }
        finally
        {
            await StopAllAsync(replicas);
        }
    }

    [Fact]
    public async Task A_replica_stopped_by_SIGTERM_while_calls_run_drains_closes_its_sessions_deletes_its_queue_and_exits_0()
    {
        var requestQueue = FauxqsEmulator.UniqueName("replicas-term");
        var replicas = await StartReplicasAsync(3, ["--request-queue", requestQueue]);
        try
        {
            var victim = replicas[0];
            var calls = AlternatingCalls(requestQueue, "replicas-term-resp");

            // Calls until one runs its tool on the replica to stop; then SIGTERM, while that call and others are running.
            var (before, serving) = await RunCallsUntilOneRunsOnAsync(victim.WorkerId, calls, wave: 4, maxWaves: 10);
            var stopWatch = Stopwatch.StartNew();
            await TerminateAsync(victim.Process);

            // Calls started while it stops reach the others.
            var after = RunCallsAsync(Enumerable.Range(100, 6).Select(calls).ToList(), concurrency: 3);
            var exit = await ExitWithinAsync(victim, TimeSpan.FromSeconds(60));
            var stopSeconds = stopWatch.Elapsed.TotalSeconds;
            Output?.WriteLine($"SIGTERM to exit of replica {victim.WorkerId}: {stopSeconds:F1} s (exit code {exit}).");
            Assert.True(exit == 0, $"replica {victim.WorkerId} exited with {exit}: {victim.Process.Output}");

            var runs = (await before).Concat(await after).ToList();
            Describe(replicas, runs);
            foreach (var run in runs)
            {
                Assert.DoesNotContain("is unknown or has expired", run.Output, StringComparison.Ordinal);
                if (run.WorkerId != victim.WorkerId)
                {
                    AssertSucceeded(run);
                }
                else if (run.Exit != 0)
                {
                    // Served by the stopping replica and not drained: a clear failure, not a wait or an unknown session.
                    Assert.True(
                        run.Output.Contains($"The server closed session '{victim.WorkerId}", StringComparison.Ordinal) ||
                        run.Output.Contains("is stopping and takes no new requests", StringComparison.Ordinal) ||
                        run.Output.Contains("was lost: the server that held it stopped", StringComparison.Ordinal),
                        $"{run.Label} failed without saying that its server stopped: {run.Output}");
                }
            }

            // The call whose tool was running when the signal came was drained: it got its answer.
            AssertSucceeded(runs.Single(r => r.Label == serving));

            // Its own queue is gone, left by no sweep deadline; every line it printed names it.
            await AssertQueueGoneAsync(WorkerQueueName(requestQueue, victim.WorkerId));
            Assert.DoesNotContain("still held messages", victim.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Deleting own queue", victim.Process.Output, StringComparison.Ordinal);
            AssertLinesNameTheWorker(victim);
            Assert.All(replicas.Skip(1), r => Assert.False(r.Process.HasExited, $"replica {r.WorkerId} exited: {r.Process.Output}"));
        }
        finally
        {
            await StopAllAsync(replicas);
        }
    }

    /// <summary>
    /// Over SNS+SQS a client sends every message to the server topic (its worker's address is a queue, not a topic): the
    /// replica that receives a message of the other's session hands it over.
    /// </summary>
    [Fact]
    public async Task Two_replicas_on_one_topic_and_queue_serve_every_sns_sqs_call_on_both_revisions()
    {
        var serverTopic = FauxqsEmulator.UniqueName("replicas-st");
        var serverQueue = FauxqsEmulator.UniqueName("replicas-sq");
        // One of them with --verbose, as when one replica is looked at closely: its entries, the SDK's too, name its worker.
        var replicas = await StartReplicasAsync(2, ["--transport", "sns-sqs", "--server-topic", serverTopic, "--server-queue", serverQueue], i => i == 0 ? ["--verbose"] : []);
        try
        {
            Assert.Equal(2, replicas.Select(r => r.WorkerId).Distinct().Count());
            var runs = await RunCallsAsync(
                Enumerable.Range(0, 8).Select(i => new CallSpec(
                    $"call {i} ({(i % 2 == 0 ? "default" : November)})",
                    [
                        "--transport", "sns-sqs", "--server-topic", serverTopic, "--client-topic", FauxqsEmulator.UniqueName("replicas-ct"), "--client-queue", FauxqsEmulator.UniqueName("replicas-cq"),
                        .. (i % 2 == 0 ? Array.Empty<string>() : ["--protocol-version", November]),
                    ],
                    Duration: 1,
                    Steps: 2)).ToList(),
                concurrency: 4);

            Describe(replicas, runs);
            foreach (var run in runs)
            {
                AssertSucceeded(run);
                Assert.Contains(run.WorkerId, replicas.Select(r => r.WorkerId));
            }

            foreach (var replica in replicas)
            {
                AssertLinesNameTheWorker(replica);
            }

            Assert.Contains($"asyncmcp [worker {replicas[0].WorkerId}]: debug: ModelContextProtocol.", replicas[0].Process.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAllAsync(replicas);
        }
    }

    [Fact]
    public async Task A_replica_killed_outright_has_its_queue_removed_by_the_others_and_calls_through_them_succeed()
    {
        var requestQueue = FauxqsEmulator.UniqueName("replicas-kill");
        var replicas = await StartReplicasAsync(3, ["--request-queue", requestQueue]);
        try
        {
            var victim = replicas[0];
            var calls = AlternatingCalls(requestQueue, "replicas-kill-resp");
            var (before, serving) = await RunCallsUntilOneRunsOnAsync(victim.WorkerId, calls, wave: 4, maxWaves: 10);

            // kill -9, by its process id (its child processes with it): no drain, no sweep, no delete; its lease runs out.
            var cleanup = Stopwatch.StartNew();
            victim.Process.Kill();
            await ExitWithinAsync(victim, TimeSpan.FromSeconds(30));

            var after = RunCallsAsync(Enumerable.Range(100, 6).Select(calls).ToList(), concurrency: 3);
            await AssertQueueGoneAsync(WorkerQueueName(requestQueue, victim.WorkerId), TimeSpan.FromSeconds(60));
            var cleanupSeconds = cleanup.Elapsed.TotalSeconds;
            Output?.WriteLine($"kill -9 of replica {victim.WorkerId} to its queue deleted by the others: {cleanupSeconds:F1} s (lease 10 s, visibility timeout 30 s).");

            var runs = (await before).Concat(await after).ToList();
            Describe(replicas, runs);
            foreach (var run in runs)
            {
                Assert.DoesNotContain("is unknown or has expired", run.Output, StringComparison.Ordinal);
                if (run.WorkerId != victim.WorkerId)
                {
                    AssertSucceeded(run);
                }
            }

            // The call whose tool ran on the killed replica is told its session was lost (by the sweep of its queue), not left waiting.
            Assert.Contains(replicas.Skip(1), r => r.Process.Output.Contains($"warning: Worker {victim.WorkerId} is gone (its lease ran out)", StringComparison.Ordinal));
            var lost = runs.Single(r => r.Label == serving);
            Assert.True(lost.Exit != 0 && lost.Output.Contains("was lost: the server that held it stopped", StringComparison.Ordinal), $"{lost.Label}: {lost.Output}");
            Assert.All(replicas.Skip(1), r => Assert.False(r.Process.HasExited, $"replica {r.WorkerId} exited: {r.Process.Output}"));
        }
        finally
        {
            await StopAllAsync(replicas);
        }
    }

    private sealed record Replica(ChildProcess Process, string WorkerId);

    private sealed record CallSpec(string Label, string[] Target, int Duration, int Steps);

    /// <summary>Calls of 4 s in 4 steps on the SQS queue, each with a response queue of its own, alternating the default revision and 2025-11-25.</summary>
    private static Func<int, CallSpec> AlternatingCalls(string requestQueue, string responsePrefix) => i => new(
        $"call {i} ({(i % 2 == 0 ? "default" : November)})",
        ["--request-queue", requestQueue, "--response-queue", FauxqsEmulator.UniqueName(responsePrefix), .. (i % 2 == 0 ? Array.Empty<string>() : ["--protocol-version", November])],
        Duration: 4,
        Steps: 4);

    private sealed record CallRun(string Label, int Exit, string Output, string? WorkerId, TimeSpan Took);

    [GeneratedRegex(@"as worker ([0-9a-f]{8})\s*$")]
    private static partial Regex ServingAs();

    // What call --verbose logs once its session is open: the session id, whose first 8 digits name the worker holding it.
    [GeneratedRegex(@"Session ([0-9a-f]{8})[0-9a-f]{24} established\.")]
    private static partial Regex Established();

    // And over SQS: the worker queue it sends the session's messages to.
    [GeneratedRegex(@"is held by a server worker reached directly at \S+-w-([0-9a-f]{8})\b")]
    private static partial Regex HeldBy();

    [GeneratedRegex(LongTool + @": \d+%")]
    private static partial Regex Progress();

    private async Task<List<Replica>> StartReplicasAsync(int count, string[] options, Func<int, string[]>? more = null)
    {
        var started = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var process = await _cli.StartServeAsync([.. options, .. more?.Invoke(i) ?? []]);
            var line = await process.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
            var match = ServingAs().Match(line);
            Assert.True(match.Success, $"serve did not say which worker it is: {line}");
            return new Replica(process, match.Groups[1].Value);
        }));
        return [.. started];
    }

    private static async Task StopAllAsync(IEnumerable<Replica> replicas)
    {
        foreach (var replica in replicas)
        {
            await replica.Process.DisposeAsync();
        }
    }

    /// <summary>Runs the calls, at most <paramref name="concurrency"/> at once; each must end within the deadline.</summary>
    /// <param name="specs">The calls.</param>
    /// <param name="concurrency">How many run at once.</param>
    /// <param name="watch">Told of each call's process when it starts, and with <see langword="null"/> when it has ended.</param>
    private async Task<List<CallRun>> RunCallsAsync(IReadOnlyList<CallSpec> specs, int concurrency, Action<CallSpec, ChildProcess?>? watch = null)
    {
        using var slots = new SemaphoreSlim(concurrency);
        var runs = await Task.WhenAll(specs.Select(async spec =>
        {
            await slots.WaitAsync(Timeout);
            try
            {
                return await CallAsync(spec, watch);
            }
            finally
            {
                slots.Release();
            }
        }));
        return [.. runs];
    }

    private async Task<CallRun> CallAsync(CallSpec spec, Action<CallSpec, ChildProcess?>? watch)
    {
        var took = Stopwatch.StartNew();
        string[] arguments =
        [
            CliProcess.Cli, "call", .. spec.Target, "--verbose", "--tool", LongTool,
            "--arg", $"duration={spec.Duration.ToString(CultureInfo.InvariantCulture)}", "--arg", $"steps={spec.Steps.ToString(CultureInfo.InvariantCulture)}",
        ];
        await using var call = ChildProcess.Start("dotnet", arguments, RepositoryPaths.Infra, _cli.Environment());
        watch?.Invoke(spec, call);
        int exit;
        try
        {
            exit = await call.WaitForExitAsync(s_callDeadline);
        }
        catch (OperationCanceledException) when (!Timeout.IsCancellationRequested)
        {
            Assert.Fail($"{spec.Label} hung: it did not end within {s_callDeadline.TotalSeconds} s. Output:\n{call.Output}");
            throw;
        }
        finally
        {
            watch?.Invoke(spec, null);
        }

        var output = call.Output;
        var established = Established().Match(output);
        return new CallRun(spec.Label, exit, output, established.Success ? established.Groups[1].Value : null, took.Elapsed);
    }

    /// <summary>
    /// Starts waves of calls until one of them is running its tool on <paramref name="workerId"/> (its session is there
    /// and a progress notice has come), and returns then: the calls, still running, and the label of that one.
    /// </summary>
    private async Task<(Task<List<CallRun>> Runs, string Serving)> RunCallsUntilOneRunsOnAsync(string workerId, Func<int, CallSpec> spec, int wave, int maxWaves)
    {
        var running = new ConcurrentDictionary<string, ChildProcess>();
        var waves = new List<Task<List<CallRun>>>();
        for (var w = 0; w < maxWaves; w++)
        {
            var calls = RunCallsAsync(
                Enumerable.Range(w * wave, wave).Select(spec).ToList(),
                wave,
                (s, process) =>
                {
                    if (process is null)
                    {
                        running.TryRemove(s.Label, out _);
                    }
                    else
                    {
                        running[s.Label] = process;
                    }
                });
            waves.Add(calls);
            while (!calls.IsCompleted)
            {
                foreach (var (label, process) in running)
                {
                    if (IsRunningOn(process, workerId))
                    {
                        return (Combine(waves), label);
                    }
                }

                await Task.WhenAny(calls, Task.Delay(100, Timeout));
            }

            // This wave's calls all ended elsewhere (or before a look found them running): fail early if any failed.
            foreach (var run in await calls)
            {
                AssertSucceeded(run);
            }
        }

        Assert.Fail($"none of {wave * maxWaves} calls ran its tool on replica {workerId}");
        throw new UnreachableException();

        static async Task<List<CallRun>> Combine(List<Task<List<CallRun>>> all) => [.. (await Task.WhenAll(all)).SelectMany(r => r)];
    }

    /// <summary>Whether a call is still running with its session on the worker and its tool under way (a progress notice came).</summary>
    private static bool IsRunningOn(ChildProcess call, string workerId)
    {
        var output = call.Output;
        try
        {
            return Established().Match(output) is { Success: true } held && held.Groups[1].Value == workerId && Progress().IsMatch(output) && !call.HasExited;
        }
        catch (InvalidOperationException)
        {
            // Ended and disposed meanwhile.
            return false;
        }
    }

    private static async Task<int> ExitWithinAsync(Replica replica, TimeSpan deadline)
    {
        try
        {
            return await replica.Process.WaitForExitAsync(deadline);
        }
        catch (OperationCanceledException) when (!Timeout.IsCancellationRequested)
        {
            Assert.Fail($"replica {replica.WorkerId} did not exit within {deadline.TotalSeconds:F0} s: {replica.Process.Output}");
            throw;
        }
    }

    private static async Task TerminateAsync(ChildProcess process)
    {
        using var kill = Process.Start("kill", ["-TERM", process.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Timeout);
        Assert.Equal(0, kill.ExitCode);
    }

    private static string WorkerQueueName(string requestQueue, string workerId) => $"{requestQueue}-w-{workerId}";

    /// <summary>Waits until the queue no longer exists (GetQueueUrl says so), up to the deadline.</summary>
    private async Task AssertQueueGoneAsync(string queueName, TimeSpan? deadline = null)
    {
        var limit = deadline ?? TimeSpan.FromSeconds(10);
        using var within = Within(limit);
        while (true)
        {
            try
            {
                await emulator.Sqs.GetQueueUrlAsync(queueName, within.Token);
            }
            catch (QueueDoesNotExistException)
            {
                return;
            }
            catch (OperationCanceledException) when (!Timeout.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await Task.Delay(250, within.Token);
            }
            catch (OperationCanceledException) when (!Timeout.IsCancellationRequested)
            {
                break;
            }
        }

        Assert.Fail($"queue {queueName} still exists after {limit.TotalSeconds:F0} s");
    }

    private static void AssertSucceeded(CallRun run)
    {
        Assert.True(run.Exit == 0, $"{run.Label} exited with {run.Exit} after {run.Took.TotalSeconds:F1} s: {run.Output}");
        Assert.Contains("Long running operation completed.", run.Output, StringComparison.Ordinal);
        Assert.NotNull(run.WorkerId);
    }

    /// <summary>Every log entry a replica printed names its worker (the lines that follow an entry, indented, are part of it).</summary>
    private static void AssertLinesNameTheWorker(Replica replica)
    {
        foreach (var line in CliProcess.Lines(replica.Process.Output).Where(l => !l.StartsWith("asyncmcp serve: serving on", StringComparison.Ordinal) && !char.IsWhiteSpace(l[0])))
        {
            Assert.StartsWith($"asyncmcp [worker {replica.WorkerId}]: ", line, StringComparison.Ordinal);
        }
    }

    private static void Describe(IEnumerable<Replica> replicas, IEnumerable<CallRun> runs)
    {
        foreach (var replica in replicas)
        {
            var landed = runs.Where(r => r.WorkerId == replica.WorkerId).ToList();
            Output?.WriteLine($"replica {replica.WorkerId}: {landed.Count} sessions ({string.Join(", ", landed.Select(r => $"{r.Label}: exit {r.Exit}, {r.Took.TotalSeconds:F1} s"))})");
        }

        foreach (var run in runs.Where(r => r.Exit != 0))
        {
            Output?.WriteLine($"{run.Label}: {CliProcess.Lines(run.Output).LastOrDefault(l => l.StartsWith("asyncmcp:", StringComparison.Ordinal))}");
        }

        foreach (var run in runs.Where(r => r.WorkerId is null))
        {
            Output?.WriteLine($"{run.Label}: no session, exit {run.Exit}, {run.Took.TotalSeconds:F1} s");
        }
    }
}
