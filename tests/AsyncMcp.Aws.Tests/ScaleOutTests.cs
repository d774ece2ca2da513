using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using AsyncMcp.Testing.Conformance;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static AsyncMcp.Testing.Waiting;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Several server processes (workers) on one request queue, as production runs them: every client is served with its
/// session intact whichever worker receives its messages, our clients on both revisions and clients that speak
/// asyncmcp's wire format alike; a killed worker costs only its own sessions, whose clients are told fast; a worker
/// stopped with SIGTERM loses nothing.
/// </summary>
public sealed class ScaleOutTests(EmulatorFixture fixture)
{
    private static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(150);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_workers_serve_twenty_clients_of_both_revisions_and_asyncmcp_style_with_their_sessions_intact()
    {
        var queue = await fixture.CreateQueueAsync("scale");
        await using var workers = await WorkerProcesses.StartAsync(fixture, queue, count: 3);

        var ours = Enumerable.Range(0, 14).Select(i => RunOurClientAsync(queue, i % 2 == 0 ? Protocols.November2025 : Protocols.July2026, calls: 10)).ToArray();
        var theirs = Enumerable.Range(0, 6).Select(i => RunAsyncmcpStyleClientAsync(queue, $"py-{i}", calls: 10)).ToArray();
        var ourRuns = await Task.WhenAll(ours).WaitAsync(RunDeadline, Timeout);
        var theirRuns = await Task.WhenAll(theirs).WaitAsync(RunDeadline, Timeout);

        foreach (var run in ourRuns)
        {
            Assert.True(run.Failures.IsEmpty, $"{run.Protocol} client failed: {string.Join("; ", run.Failures)}");
            Assert.Equal(10, run.Succeeded);
        }

        foreach (var run in theirRuns)
        {
            Assert.All(run.Calls, c => Assert.Null(c.Error));
            Assert.Equal(10, run.Calls.Count(c => c.Text == Done(2) && c.Progress == 2));
        }

        // Sessions were opened by whichever worker took the initialize; each names its holder. (Which worker takes which
        // message is the broker's choice, so how they spread is not asserted here; the next test hands over for sure.)
        var holders = ourRuns.Where(r => r.SessionId is not null).Select(r => r.SessionId!)
            .Concat(theirRuns.Select(r => r.SessionId))
            .Select(id => WorkerNames.WorkerOf(id) ?? throw new InvalidOperationException($"session id {id} names no worker"))
            .ToHashSet();
        Assert.Subset(workers.Ids.ToHashSet(), holders);
        Assert.Equal(7, ourRuns.Count(r => r.SessionId is not null));
    }

    [Fact]
    public async Task A_message_of_a_session_that_another_worker_receives_is_handed_over_to_its_holder()
    {
        var queue = await fixture.CreateQueueAsync("scale-hand");
        await using var holderOnly = await WorkerProcesses.StartAsync(fixture, queue, count: 1);
        var holder = Assert.Single(holderOnly.Ids);
        await using var peer = new RawSqsPeer(fixture.Sqs, queue, await fixture.CreateQueueAsync("scale-hand-resp"));
        var sessionId = await peer.OpenSessionAsync();
        Assert.Equal(holder, WorkerNames.WorkerOf(sessionId));

        await using var other = await WorkerProcesses.StartAsync(fixture, queue, count: 1);

        // Sent where only the other worker receives (its own queue), so that it is that worker which must hand it over.
        // From the shared queue it is the same path, taken whenever the broker gives a message to a worker that does not
        // hold its session.
        var otherQueue = WorkerNames.WorkerQueueUrl(queue, Assert.Single(other.Ids));
        await using var viaOther = new RawSqsPeer(fixture.Sqs, otherQueue, peer.ResponseQueueUrl);
        await viaOther.SendAsync(RawPeer.Request(7, "tools/call", new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "handed over" } }), sessionId);

        var answer = await peer.ReceiveAsync(m => (int?)m["id"] == 7, TimeSpan.FromSeconds(30));
        Assert.True(answer["result"] is JsonObject, answer.ToJsonString());
        Assert.Equal("Echo: handed over", (string?)answer["result"]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task A_killed_worker_costs_only_its_own_sessions_whose_clients_are_told_they_were_lost_and_the_survivors_remove_its_queue()
    {
        var queue = await fixture.CreateQueueAsync("scale-kill");
        await using var workers = await WorkerProcesses.StartAsync(fixture, queue, count: 3, leaseSeconds: 3);
        using var warm = new CountdownEvent(12);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var victim = workers.Ids.First();
        var survivor = workers.Ids.Last();

        // Four sessions are opened at the victim for sure (their initialize sent to its own queue), the others wherever the
        // broker puts them; the asyncmcp-style clients' sessions are opened at a survivor (see the closing remarks).
        var ours = Enumerable.Range(0, 9).Select(i => RunOurClientAsync(queue, i % 3 == 2 ? Protocols.July2026 : Protocols.November2025, calls: 10, warm: warm, steps: 2, delayMs: 50, initializeAt: i % 3 != 2 && i < 5 ? WorkerNames.WorkerQueueUrl(queue, victim) : null, holdAfterFour: killed.Task)).ToArray();
        var theirs = Enumerable.Range(0, 3).Select(i => RunAsyncmcpStyleClientAsync(queue, $"py-kill-{i}", calls: 12, warm: warm, steps: 2, delayMs: 200, initializeAt: WorkerNames.WorkerQueueUrl(queue, survivor))).ToArray();

        await Eventually(() => warm.IsSet, TimeSpan.FromSeconds(90), "every client made its first calls");
        var victimQueue = WorkerNames.WorkerQueueUrl(queue, victim);
        workers[victim].Kill();
        var killedAt = Stopwatch.GetTimestamp();
        killed.SetResult();

        var ourRuns = await Task.WhenAll(ours).WaitAsync(RunDeadline, Timeout);
        var theirRuns = await Task.WhenAll(theirs).WaitAsync(RunDeadline, Timeout);

        Assert.True(ourRuns.Count(r => r.SessionId is { } id && WorkerNames.WorkerOf(id) == victim) >= 4, "the victim held sessions");
        foreach (var run in ourRuns)
        {
            if (run.SessionId is { } id && WorkerNames.WorkerOf(id) == victim)
            {
                // Its session is gone with its worker: the client is told so, in the call it was making.
                var failure = Assert.Single(run.Failures);
                Assert.Contains("start a new session", failure, StringComparison.Ordinal);
                var toldAfter = Stopwatch.GetElapsedTime(killedAt, run.FailedAt!.Value);
                TestContext.Current.TestOutputHelper?.WriteLine($"session {id} of killed worker {victim}: client told after {toldAfter.TotalSeconds:F1} s");
                Assert.True(toldAfter < TimeSpan.FromSeconds(30), $"told after {toldAfter}");
            }
            else
            {
                // Sessions of other workers, and session-less calls (2026-07-28), are not affected.
                Assert.True(run.Failures.IsEmpty, $"{run.Protocol} client of another worker failed: {string.Join("; ", run.Failures)}");
                Assert.Equal(10, run.Succeeded);
            }
        }

        // Their messages went to the shared queue, where the victim took some and handed them over (or died holding
        // them: they came back to the queue and a survivor handed them over). An asyncmcp-style client of the victim
        // itself could not be told its session was lost: it names its reply queue only in initialize, which only the
        // victim knew (docs/deployment.md).
        foreach (var run in theirRuns)
        {
            Assert.Equal(survivor, WorkerNames.WorkerOf(run.SessionId));
            Assert.All(run.Calls, c => Assert.Null(c.Error));
            Assert.Equal(12, run.Calls.Count);
        }

        // The survivors take the worker for gone once its lease has run out, answer what was left in its queue, and delete it.
        await EventuallyAsync(async () => !await QueueExistsAsync(victimQueue), TimeSpan.FromSeconds(60), "the killed worker's queue removed by the survivors");
        TestContext.Current.TestOutputHelper?.WriteLine($"killed worker's queue removed {Stopwatch.GetElapsedTime(killedAt).TotalSeconds:F1} s after the kill (lease 3 s)");
        foreach (var alive in workers.Ids.Where(id => id != victim))
        {
            Assert.True(await QueueExistsAsync(WorkerNames.WorkerQueueUrl(queue, alive)), $"survivor {alive} keeps its queue");
        }
    }

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_finishes_its_calls_in_flight_and_no_call_is_lost_or_hangs()
    {
        var queue = await fixture.CreateQueueAsync("scale-term");
        await using var workers = await WorkerProcesses.StartAsync(fixture, queue, count: 3);
        using var warm = new CountdownEvent(9);
        var sessions = new ConcurrentBag<string>();

        // Each client makes 12 good calls; when its session is closed under it, it opens a new one and goes on.
        var runs = Enumerable.Range(0, 9).Select(i => RunOurClientAsync(queue, i % 3 == 2 ? Protocols.July2026 : Protocols.November2025, calls: 12, warm: warm, sessions: sessions, steps: 3, delayMs: 100, reconnect: true)).ToArray();

        await Eventually(() => warm.IsSet, TimeSpan.FromSeconds(90), "every client made its first calls");
        var victim = MostSessions(sessions);
        var stopping = workers[victim];
        await stopping.TerminateAsync(Timeout);

        Assert.Equal(0, await stopping.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("STOPPED", stopping.StandardOutput, StringComparison.Ordinal);
        var all = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(120), Timeout);

        foreach (var run in all)
        {
            Assert.Equal(12, run.Succeeded);

            // A call the stopping worker had not begun is answered with a clear error (never left unanswered), and is
            // made again on a new session.
            Assert.All(run.Failures, f => Assert.Contains("start a new session", f, StringComparison.Ordinal));
        }

        // Every call the stopping worker began, it finished: it was drained, not cut.
        var events = stopping.StandardOutput.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Equal(events.Count(e => e == "EVENT slow-started"), events.Count(e => e == "EVENT slow-completed"));
        Assert.DoesNotContain("EVENT slow-cancelled", events);
        Assert.All(all, r => Assert.True(r.Failures.Count <= 2, $"a client was refused {r.Failures.Count} times: {string.Join("; ", r.Failures)}"));
        Assert.False(await QueueExistsAsync(WorkerNames.WorkerQueueUrl(queue, victim)), "a stopped worker removes its queue");
    }

    private static string Done(int steps) => $"done after {steps} steps";

    /// <summary>The worker that holds the most of these sessions.</summary>
    private static string MostSessions(IEnumerable<string> sessions) =>
        sessions.GroupBy(s => WorkerNames.WorkerOf(s) ?? throw new InvalidOperationException($"session id {s} names no worker")).OrderByDescending(g => g.Count()).First().Key;

    private async Task<bool> QueueExistsAsync(string queueUrl)
    {
        try
        {
            await fixture.Sqs.GetQueueAttributesAsync(queueUrl, ["QueueArn"], Timeout);
            return true;
        }
        catch (QueueDoesNotExistException)
        {
            return false;
        }
    }

    /// <summary>
    /// Our client, making <paramref name="calls"/> good calls of the slow tool with progress, one after another. It stops
    /// at the first failure, or with <paramref name="reconnect"/> opens a new connection and goes on.
    /// </summary>
    private async Task<OurRun> RunOurClientAsync(string queue, string protocol, int calls, CountdownEvent? warm = null, ConcurrentBag<string>? sessions = null, int steps = 2, int delayMs = 20, bool reconnect = false, string? initializeAt = null, Task? holdAfterFour = null)
    {
        var run = new OurRun(protocol);
        var responseQueue = await fixture.CreateQueueAsync("scale-resp");
        McpClient? client = null;
        ObservingClientTransport? observed = null;
        var succeededOnConnection = 0;
        try
        {
            while (run.Succeeded < calls)
            {
                if (run.Succeeded == 4 && holdAfterFour is not null)
                {
                    // Later calls come after the test's action for sure, whatever the machine's speed; earlier ones may be in flight.
                    await holdAfterFour.WaitAsync(RunDeadline, Timeout);
                }

                if (client is null)
                {
                    client = await ConnectAsync(observed = new ObservingClientTransport(CreateTransport(initializeAt ?? queue, responseQueue)), protocol);
                    succeededOnConnection = 0;
                    run.SessionId = client.SessionId;
                    if (client.SessionId is { } opened)
                    {
                        sessions?.Add(opened);
                    }
                }

                try
                {
                    var result = await client.CallToolAsync(
                        "slow",
                        new Dictionary<string, object?> { ["steps"] = steps, ["delayMs"] = delayMs },
                        new SynchronousProgress(_ => { }),
                        cancellationToken: Timeout);
                    Assert.Equal(Done(steps), Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);

                    // Counted where the transport hands messages to the SDK: a tool reports progress fire-and-forget, so
                    // the last notice may trail the result, and the SDK drops a notice that comes after its call ended.
                    var expected = (succeededOnConnection + 1) * steps;
                    await Eventually(() => observed!.ProgressNotices().Count >= expected, TimeSpan.FromSeconds(10), $"the progress of call {run.Succeeded + 1} of a {protocol} client in session {run.SessionId ?? "(none)"} ({observed!.ProgressNotices().Count} of {expected} notices)");
                    succeededOnConnection++;
                    run.Succeeded++;
                    if (run.Succeeded == 2)
                    {
                        warm?.Signal();
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not Xunit.Sdk.XunitException)
                {
                    run.Failures.Add(ex.Message);
                    run.FailedAt ??= Stopwatch.GetTimestamp();
                    if (!reconnect || run.Failures.Count > 5)
                    {
                        break;
                    }

                    await client.DisposeAsync();
                    client = null;
                    run.SessionId = null;
                }
            }
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }
        }

        return run;
    }

    private SqsClientTransport CreateTransport(string queue, string responseQueue) =>
        new(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = queue, ResponseQueueUrl = responseQueue, WaitTime = TimeSpan.FromSeconds(1) });

    private static Task<McpClient> ConnectAsync(IClientTransport transport, string protocol) =>
        McpClient.CreateAsync(
            transport,
            // The default revision, as users run it; the probe may take longer than its default 5 s on a loaded machine,
            // after which the SDK would settle for 2025-11-25 and open a session.
            new McpClientOptions { ProtocolVersion = Protocols.ClientSetting(protocol), DiscoverProbeTimeout = TimeSpan.FromSeconds(30) },
            SqsHarness.LoggerFactory,
            Timeout);

    /// <summary>A client that speaks asyncmcp's wire format (JavaScript): every message to the shared queue, nothing known of workers.</summary>
    private async Task<TheirRun> RunAsyncmcpStyleClientAsync(string queue, string clientId, int calls, CountdownEvent? warm = null, ConcurrentBag<string>? sessions = null, int steps = 2, int delayMs = 20, string? initializeAt = null)
    {
        var responseQueue = await fixture.CreateQueueAsync("scale-py");
        await using var node = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-sqs-session-client.mjs")],
            RepositoryPaths.Infra,
            new Dictionary<string, string>
            {
                ["INFRA_DIR"] = RepositoryPaths.Infra,
                ["ENDPOINT"] = fixture.Emulator.ServiceUrl,
                ["REQUEST_QUEUE_URL"] = queue,
                ["RESPONSE_QUEUE_URL"] = responseQueue,
                ["CALLS"] = calls.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["CLIENT_ID"] = clientId,
                ["STEPS"] = steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["DELAY_MS"] = delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["WARM_AFTER"] = warm is null ? "0" : "2",
                ["INIT_QUEUE_URL"] = initializeAt ?? "",
            });
        if (warm is not null)
        {
            var warmSession = (await node.WaitForLineAsync(l => l.StartsWith("WARM ", StringComparison.Ordinal), TimeSpan.FromSeconds(90)))["WARM ".Length..].Trim();
            sessions?.Add(warmSession);
            warm.Signal();
        }

        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"sessionId\"", StringComparison.Ordinal), TimeSpan.FromSeconds(150));
        var output = JsonNode.Parse(line)!.AsObject();
        var sessionId = (string)output["sessionId"]!;
        var results = output["calls"]!.AsArray().Select(c => new TheirCall((string?)c!["text"], (int)c["progress"]!, c["error"] as JsonObject)).ToList();
        return new TheirRun(clientId, sessionId, results);
    }

    private sealed class OurRun(string protocol)
    {
        public string Protocol { get; } = protocol;

        public string? SessionId { get; set; }

        public int Succeeded { get; set; }

        public ConcurrentBag<string> Failures { get; } = [];

        public long? FailedAt { get; set; }
    }

    private sealed record TheirCall(string? Text, int Progress, JsonObject? Error);

    private sealed record TheirRun(string ClientId, string SessionId, List<TheirCall> Calls);

    /// <summary>Worker processes (the test server over SQS), each stopped by its process id when the test ends.</summary>
    private sealed class WorkerProcesses : IAsyncDisposable
    {
        private readonly Dictionary<string, ChildProcess> _byId;

        private WorkerProcesses(Dictionary<string, ChildProcess> byId) => _byId = byId;

        public IReadOnlyCollection<string> Ids => _byId.Keys;

        public ChildProcess this[string workerId] => _byId[workerId];

        public static async Task<WorkerProcesses> StartAsync(EmulatorFixture fixture, string queue, int count, int leaseSeconds = 10)
        {
            var started = new Dictionary<string, ChildProcess>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var host = ChildProcess.Start(
                        "dotnet",
                        [
                            Path.Combine(AppContext.BaseDirectory, "AsyncMcp.TestServerHost.dll"), "--service-url", fixture.Emulator.ServiceUrl, "--queue-url", queue,
                            "--visibility-seconds", "2", "--wait-seconds", "1", "--lease-seconds", leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ],
                        AppContext.BaseDirectory);
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

            return new WorkerProcesses(started);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var host in _byId.Values)
            {
                await host.DisposeAsync();
            }
        }
    }
}
