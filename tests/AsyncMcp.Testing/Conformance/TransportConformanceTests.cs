using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static AsyncMcp.Testing.Waiting;

namespace AsyncMcp.Testing.Conformance;

/// <summary>
/// What every AsyncMcp transport must do, written once: a real <see cref="ModelContextProtocol.Client.McpClient"/>
/// against a real <see cref="ModelContextProtocol.Server.McpServer"/> on both protocol revisions, every capability,
/// bad input, sessions closed by the client and expired, back-pressure, shutdown and many clients at once. A
/// transport runs it with one line, <c>public sealed class XConformanceTests(XHarness h) : TransportConformanceTests&lt;XHarness&gt;(h);</c>;
/// its <typeparamref name="THarness"/> starts servers and says, in <see cref="TransportTraits"/>, where the transport
/// differs, and why a part does not apply to it (the test is then reported skipped with that reason).
/// </summary>
/// <remarks>
/// Tests that need no settings of their own share one server per class (they leave nothing behind that another
/// reads); the others start their own. Every wait has a deadline, and every test a timeout.
/// </remarks>
/// <typeparam name="THarness">The transport's harness, the class fixture.</typeparam>
public abstract class TransportConformanceTests<THarness>(THarness harness) : IClassFixture<THarness>
    where THarness : TransportHarness
{
    private const int TestTimeout = 120_000;

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private TransportTraits Traits => harness.Traits;

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Lists_and_calls_tools(string protocol)
    {
        var server = await harness.SharedServerAsync();
        await using var client = await server.ConnectAsync(protocol);

        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync(cancellationToken: Timeout);
        Assert.Contains(tools, t => t.Name == "echo");
        Assert.Contains(tools, t => t.Name == "slow");

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Timeout);
        Assert.Equal("Echo: hi", Text(echo));
        var sum = await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }, cancellationToken: Timeout);
        Assert.Equal("42", Text(sum));
        var failed = await client.CallToolAsync("fail", cancellationToken: Timeout);
        Assert.True(failed.IsError);
        await AssertRanInTheBackgroundAsync(server, "fail");
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Reports_progress_before_the_result(string protocol)
    {
        var server = await harness.SharedServerAsync();
        ObservingClientTransport? observed = null;
        await using var client = await server.ConnectAsync(protocol, wrap: t => observed = new ObservingClientTransport(t));

        var result = await client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 4, ["delayMs"] = 50 },
            new SynchronousProgress(_ => { }),
            cancellationToken: Timeout);

        Assert.Equal("done after 4 steps", Text(result));

        // Checked where the transport hands messages to the SDK: the SDK runs each incoming message on its own work
        // item, so an IProgress handler can lose the race with the result and be unregistered before it runs.
        // IProgress.Report in a tool is fire-and-forget, so the last notice may trail the result: wait for it.
        await Eventually(() => observed!.ProgressNotices().Count == 4, what: "Four progress notices");
        Assert.Equal([1, 2, 3, 4], observed!.ProgressNotices().Select(p => (int)p.Progress).Order());
        Assert.All(observed.ProgressNotices(), p => Assert.Equal(4, p.Total));
        var before = observed.ProgressBefore("done after 4 steps")!;
        Assert.Equal([1, 2, 3], before.Take(3).Select(p => (int)p));
        if (Traits.AllProgressBeforeResult)
        {
            // Deliveries to one client go one at a time, in order, and a result waits for the progress sent before it.
            Assert.Equal([1, 2, 3, 4], before);
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Cancels_a_running_tool(string protocol)
    {
        await using var server = await harness.StartServerAsync(new ServerSettings());
        var client = await server.ConnectAsync(protocol);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var firstProgress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 600, ["delayMs"] = 100 },
            new SynchronousProgress(_ => firstProgress.TrySetResult()),
            cancellationToken: cts.Token).AsTask();

        await firstProgress.Task.WaitAsync(DefaultDeadline, Timeout);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        // The server hears notifications/cancelled and stops the tool.
        await Eventually(() => server.State.SlowCancelled == 1, what: "The tool's cancellation");
        Assert.Equal(0, server.State.SlowCompleted);
        if (Traits.CancellationLog is { } logged)
        {
            await Eventually(() => server.Logged(logged), what: $"The log line '{logged}'");
        }

        // The SDK sends no answer to a cancelled request; its message must not stay in flight (nor run again elsewhere).
        if (server.InFlightRequests is not null)
        {
            await Eventually(() => server.InFlightRequests == 0, what: "No request in flight");
        }

        // The session keeps working.
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after" }, cancellationToken: Timeout);
        Assert.Equal("Echo: after", Text(echo));
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Delivers_log_notifications(string protocol)
    {
        var server = await harness.SharedServerAsync();
        var logs = new LogNotifications();
        await using var client = await server.ConnectAsync(protocol, logs.ClientOptions());

        var result = await client.CallToolAsync("log", new Dictionary<string, object?> { ["message"] = "disk almost full" }, cancellationToken: Timeout);

        Assert.Equal("logged", Text(result));
        await Eventually(() => logs.Received.Contains("disk almost full"), what: "The log notification");
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Serves_resources_prompts_and_completions(string protocol)
    {
        var server = await harness.SharedServerAsync();
        await using var client = await server.ConnectAsync(protocol);

        var resources = await client.ListResourcesAsync(cancellationToken: Timeout);
        Assert.Contains(resources, r => r.Uri == "test://static");
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: Timeout);
        Assert.Contains(templates, t => t.UriTemplate == "test://items/{id}");

        var staticText = await client.ReadResourceAsync("test://static", cancellationToken: Timeout);
        Assert.Equal("static resource text", Assert.IsType<TextResourceContents>(Assert.Single(staticText.Contents)).Text);
        var item = await client.ReadResourceAsync("test://items/7", cancellationToken: Timeout);
        Assert.Equal("item 7", Assert.IsType<TextResourceContents>(Assert.Single(item.Contents)).Text);

        var prompts = await client.ListPromptsAsync(cancellationToken: Timeout);
        Assert.Contains(prompts, p => p.Name == "greeting");
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Timeout);
        Assert.Contains("Ada", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);

        var completion = await client.CompleteAsync(new PromptReference { Name = "greeting" }, "name", "Al", cancellationToken: Timeout);
        Assert.Equal(["Alice", "Albert"], completion.Completion.Values);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(Protocols.November2025)]
    [InlineData(Protocols.July2026)]
    public async Task Carries_sampling_and_elicitation_requests_from_server_to_client(string protocol)
    {
        if (protocol == Protocols.July2026)
        {
            SkipIfNotApplicable(ConformanceAspect.ServerRequestsWithoutSession);
        }

        var server = await harness.SharedServerAsync();
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "test-model",
                    Role = Role.Assistant,
                    Content = [new TextContentBlock { Text = "echo of " + ((TextContentBlock)request!.Messages[0].Content[0]).Text }],
                }),
                ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
                {
                    Action = "accept",
                    Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Grace") },
                }),
            },
        };
        await using var client = await server.ConnectAsync(protocol, options);

        var sampled = await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "ping" }, cancellationToken: Timeout);
        Assert.Equal("model test-model said: echo of ping", Text(sampled));
        var elicited = await client.CallToolAsync("elicit", cancellationToken: Timeout);
        Assert.Equal("hello Grace", Text(elicited));
        await AssertRanInTheBackgroundAsync(server, "sample");
        await AssertRanInTheBackgroundAsync(server, "elicit");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Closing_the_client_ends_its_session()
    {
        await using var server = await harness.StartServerAsync(new ServerSettings());
        var client = await server.ConnectAsync(Protocols.November2025);
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout);
        var sessionId = Assert.IsType<string>(client.SessionId);
        Assert.True(server.HasSession(sessionId));
        if (server.SessionCount is not null)
        {
            Assert.Equal(1, server.SessionCount);
        }

        await client.DisposeAsync();

        await Eventually(() => !server.HasSession(sessionId), what: "The end of the session");
        if (server.SessionCount is not null)
        {
            Assert.Equal(0, server.SessionCount);

            // The session leaves the table first, then closes and logs it.
            await Eventually(() => server.Logged($"Session {sessionId} closed: closed by the client"), what: "The log saying the client closed the session");
        }

        var peer = await server.CreateRawPeerAsync();
        await AssertUnknownSessionAsync(peer, sessionId, "after-close");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_idle_session_expires_and_a_later_request_on_it_gets_a_clear_error()
    {
        await using var server = await harness.StartServerAsync(new ServerSettings { SessionIdleTimeout = TimeSpan.FromMilliseconds(300) });
        var peer = await server.CreateRawPeerAsync();
        var sessionId = await peer.OpenSessionAsync();

        await Eventually(() => !server.HasSession(sessionId), what: "The expiry of the idle session");
        if (server.SessionCount is not null)
        {
            Assert.Equal(0, server.SessionCount);
            Assert.True(server.Logged($"Session {sessionId} closed: idle timeout"), "the log says the session expired");
        }

        await AssertUnknownSessionAsync(peer, sessionId, 2);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Requests_beyond_the_in_flight_limit_wait_and_none_is_lost()
    {
        SkipIfNotApplicable(ConformanceAspect.BackPressure);
        await using var server = await harness.StartServerAsync(new ServerSettings { MaxConcurrentRequests = 2 });
        var client = await server.ConnectAsync(Protocols.November2025);

        var calls = Enumerable.Range(0, 6).Select(_ => client.CallToolAsync("hold", cancellationToken: Timeout).AsTask()).ToArray();

        // Two run; the other four wait (in the queue, unreceived, where there is a broker).
        await Eventually(() => server.State.RunningHolds == 2, what: "Two calls running");
        if (await server.RequestsWaitingAsync() is not null)
        {
            await EventuallyAsync(async () => await server.RequestsWaitingAsync() == 4, what: "Four requests waiting on the broker");
        }

        if (server.InFlightRequests is not null)
        {
            Assert.Equal(2, server.InFlightRequests);
        }

        server.State.ReleaseHolds.SetResult();
        var results = await Task.WhenAll(calls).WaitAsync(DefaultDeadline, Timeout);

        Assert.All(results, r => Assert.Equal("released", Text(r)));
        Assert.Equal(2, server.State.MaxConcurrentHolds);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Stopping_the_server_drains_requests_in_flight()
    {
        SkipIfNotApplicable(ConformanceAspect.ShutdownDrain);
        await using var server = await harness.StartServerAsync(new ServerSettings { ShutdownDrainTimeout = TimeSpan.FromSeconds(30) });
        var client = await server.ConnectAsync(Protocols.November2025);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 10, ["delayMs"] = 100 },
            new SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: Timeout).AsTask();
        await started.Task.WaitAsync(DefaultDeadline, Timeout);

        await server.StopAsync();

        var result = await call.WaitAsync(DefaultDeadline, Timeout);
        Assert.Equal("done after 10 steps", Text(result));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Requests_left_unanswered_at_shutdown_go_back_to_the_broker_or_their_clients_are_told()
    {
        SkipIfNotApplicable(ConformanceAspect.ShutdownUnanswered);
        await using var server = await harness.StartServerAsync(new ServerSettings { ShutdownDrainTimeout = TimeSpan.FromMilliseconds(100) });
        var peer = await server.CreateRawPeerAsync();
        var sessionId = await peer.OpenSessionAsync();
        for (var id = 10; id < 13; id++)
        {
            var sent = await peer.SendAsync(RawPeer.Request(id, "tools/call", new JsonObject { ["name"] = "hold" }), sessionId);
            Assert.False(sent.IsError, sent.Message?.ToJsonString());
        }

        await Eventually(() => server.State.RunningHolds == 3, what: "Three calls running");
        await server.StopAsync();

        Assert.True(server.Logged("3 requests were still in flight"), "the log says how many requests were unfinished");
        if (Traits.RedeliversUnanswered)
        {
            // Handed back for the next server, which gets them; it never had their session, so each client hears it was lost.
            Assert.True(server.Logged("their messages go back to the broker"), "the log says where the requests went");
            await using var successor = await server.StartSuccessorAsync();
            Assert.All(await ReceiveErrorsAsync(peer, 10, 11, 12), e => Assert.Equal("session_lost", (string?)e["error"]?["data"]?["reason"]));
        }
        else
        {
            // Nothing redelivers them: each client is told before the server has stopped, and the log does not promise a redelivery.
            Assert.All(await ReceiveErrorsAsync(peer, 10, 11, 12), e => Assert.Equal("not_answered", (string?)e["error"]?["data"]?["reason"]));

            Assert.True(server.Logged("does not deliver them again"), "the log says nothing delivers the requests again");
            Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains("broker", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Twenty_clients_with_twenty_concurrent_calls_each_get_their_own_answers()
    {
        await using var server = await harness.StartServerAsync(new ServerSettings());

        // Protocols alternate so both revisions run side by side; where the transport can, half the clients share one reply address.
        var clients = new List<McpClient>();
        for (var c = 0; c < 20; c++)
        {
            clients.Add(await server.ConnectAsync(c % 2 == 0 ? Protocols.November2025 : Protocols.July2026, shareReplyAddress: Traits.SharesReplyAddresses && c < 10));
        }

        var calls = new List<Task<(string Expected, string Actual)>>();
        for (var c = 0; c < clients.Count; c++)
        {
            for (var i = 0; i < 20; i++)
            {
                var client = clients[c];
                var message = $"client {c} call {i}";
                calls.Add(Task.Run(async () =>
                {
                    var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Timeout);
                    return ($"Echo: {message}", Text(result));
                }, Timeout));
            }
        }

        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(90), Timeout);

        Assert.Equal(400, results.Length);
        Assert.All(results, r => Assert.Equal(r.Expected, r.Actual));
        if (server.SessionCount is not null)
        {
            Assert.Equal(20, server.SessionCount);
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Malformed_json_in_a_session_gets_a_parse_error_with_a_null_id()
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();
        var sessionId = await peer.OpenSessionAsync();

        var answer = await peer.SendAsync(new RawRequest("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":") { SessionId = sessionId });

        AssertError(await peer.ErrorAsync(answer), answer, 400, -32700, "parse_error", id: null);
        await AssertStillServesAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Malformed_json_from_a_sender_nobody_can_name_is_refused_and_the_server_keeps_serving()
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();
        var logged = LogCount(server, "not valid JSON");

        var answer = await peer.SendAsync(new RawRequest("not json at all"));

        if (Traits.AnswersOnTheRequest)
        {
            AssertError(answer.Message!, answer, 400, -32700, "parse_error", id: null);
        }
        else
        {
            // No reply address to answer at: logged, and settled on the first receipt (the queue holds nothing more).
            await Eventually(() => LogCount(server, "not valid JSON") > logged, what: "The log line about the body");
            await EventuallyAsync(async () => await server.RequestsWaitingAsync() is null or 0, what: "An empty request queue");
        }

        await AssertStillServesAsync(server);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData("""{"hello":"world"}""", null)]
    [InlineData("""{"jsonrpc":"1.0","id":3,"method":"tools/list"}""", 3)]
    [InlineData("""[{"jsonrpc":"2.0","id":3,"method":"tools/list"}]""", null)]
    [InlineData("42", null)]
    [InlineData("""{"jsonrpc":"2.0","id":12}""", 12)]
    public async Task A_body_that_is_not_json_rpc_gets_an_invalid_request_error(string body, int? id)
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();
        var sessionId = await peer.OpenSessionAsync();

        var answer = await peer.SendAsync(new RawRequest(body) { SessionId = sessionId });

        AssertError(await peer.ErrorAsync(answer), answer, 400, -32600, "invalid_message", id);
        await AssertStillServesAsync(server);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bodies_the_reader_refuses_late_and_requests_of_the_wrong_shape_get_an_invalid_request_error_with_the_id_they_name(bool inSession)
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();
        var sessionId = inSession ? await peer.OpenSessionAsync() : null;

        // Without a session each body names the peer's reply address, where a queue server answers it; one at a time, so
        // that an error whose id is unusable (null) is still known by the body it answers.
        foreach (var c in BadJsonRpcBodies.All(inSession ? null : peer.ReplyAddressKey, peer.ReplyAddress))
        {
            var answer = await peer.SendAsync(new RawRequest(c.Body) { SessionId = sessionId });
            var error = await peer.ErrorAsync(answer);

            Assert.True(c.Id == (long?)error["id"], $"{c.Name}: id {error["id"]?.ToJsonString() ?? "null"}, expected {c.Id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}");
            AssertError(error, answer, 400, -32600, "invalid_message", (int?)c.Id);
            Assert.Contains(c.Expected, (string?)error["error"]!["message"], StringComparison.Ordinal);
        }

        // Settled on the first receipt (nothing left on the broker, taken or not), no handler failed, and nothing was run.
        await EventuallyAsync(async () => await server.RequestsUnsettledAsync() is null or 0, what: "No request message left on the broker");
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains("Handling message", StringComparison.Ordinal));
        await AssertStillServesAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_request_on_an_unknown_session_gets_an_error_with_its_id()
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();

        await AssertUnknownSessionAsync(peer, server.UnknownSessionId, "req-9");
        await AssertStillServesAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_unsupported_protocol_version_gets_an_error_naming_the_supported_ones()
    {
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();

        var answer = await peer.SendAsync(new RawRequest(peer.NameReplyAddress(RawPeer.Initialize(7)).ToJsonString()) { ProtocolVersion = "1999-01-01" });

        var error = await peer.ErrorAsync(answer, m => (int?)m["id"] == 7);
        if (answer.IsError && answer.Status is { } status)
        {
            Assert.Equal(400, status);
        }

        Assert.Equal(7, (int)error["id"]!);
        Assert.Equal(-32022, (int)error["error"]!["code"]!);
        Assert.Contains("1999-01-01", (string?)error["error"]!["message"], StringComparison.Ordinal);
        Assert.Contains(Protocols.November2025, error["error"]!.ToJsonString(), StringComparison.Ordinal);
        await AssertStillServesAsync(server);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_request_naming_no_reply_address_is_refused_without_opening_a_session()
    {
        SkipIfNotApplicable(ConformanceAspect.MissingReplyAddress);
        var server = await harness.SharedServerAsync();
        await using var peer = await server.CreateRawPeerAsync();
        var sessions = server.SessionCount;
        var logged = LogCount(server, "names no reply address");

        // An initialize, and a request without a session (2026-07-28), naming no reply address.
        var initialize = await peer.SendAsync(new RawRequest(RawPeer.Initialize(9).ToJsonString()));
        var sessionless = await peer.SendAsync(new RawRequest(RawPeer.Request(10, "tools/list").ToJsonString()) { ProtocolVersion = Protocols.July2026 });

        if (Traits.AnswersOnTheRequest)
        {
            AssertError(initialize.Message!, initialize, 400, -32602, "missing_reply_address", 9);
            AssertError(sessionless.Message!, sessionless, 400, -32602, "missing_reply_address", 10);
        }
        else
        {
            // Nowhere to send an error: logged and dropped.
            await Eventually(() => LogCount(server, "names no reply address") >= logged + 2, what: "The log lines about the missing reply addresses");
        }

        Assert.Equal(sessions, server.SessionCount);
        await AssertStillServesAsync(server);
    }

    /// <summary>Reports the test skipped, with the transport's reason, when <paramref name="aspect"/> does not apply to it.</summary>
    protected void SkipIfNotApplicable(ConformanceAspect aspect)
    {
        if (Traits.NotApplicable.TryGetValue(aspect, out var reason))
        {
            Assert.Skip($"{Traits.Name}: {reason}");
        }
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static int LogCount(ServerUnderTest server, string fragment) =>
        server.Logs.Entries.Count(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Where the transport runs some tools in the background (the hybrid's webhook tools), this one ran so.</summary>
    private async Task AssertRanInTheBackgroundAsync(ServerUnderTest server, string tool)
    {
        if (Traits.BackgroundCallLog?.Invoke(tool) is { } logged)
        {
            await Eventually(() => server.Logged(logged), what: $"The log line '{logged}'");
        }
    }

    private static async Task AssertStillServesAsync(ServerUnderTest server)
    {
        await using var client = await server.ConnectAsync(Protocols.November2025);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Timeout);
        Assert.Equal("Echo: still here", Text(echo));
    }

    /// <summary>The errors for these request ids at the peer's reply address, whatever order they come in.</summary>
    private static async Task<IReadOnlyCollection<JsonObject>> ReceiveErrorsAsync(RawPeer peer, params int[] ids)
    {
        var errors = new Dictionary<int, JsonObject>();
        await peer.ReceiveAsync(m =>
        {
            if (m["error"] is JsonObject && (int?)m["id"] is { } id && ids.Contains(id))
            {
                errors[id] = m;
            }

            return errors.Count == ids.Length;
        });
        return errors.Values;
    }

    private async Task AssertUnknownSessionAsync(RawPeer peer, string sessionId, JsonNode id)
    {
        var answer = await peer.SendAsync(RawPeer.Request(id.DeepClone(), "tools/list"), sessionId);
        var error = await peer.ErrorAsync(answer, m => JsonNode.DeepEquals(m["id"], id));
        if (answer.Status is { } status)
        {
            Assert.Equal(404, status);
        }

        Assert.True(JsonNode.DeepEquals(id, error["id"]), $"the error carries the request's id: {error.ToJsonString()}");
        Assert.Equal(Traits.UnknownSession.Code, (int)error["error"]!["code"]!);
        if (Traits.UnknownSession.Reason is { } reason)
        {
            Assert.Equal(reason, (string?)error["error"]!["data"]?["reason"]);
        }

        Assert.Contains(Traits.UnknownSession.MessageFragment, (string?)error["error"]!["message"], StringComparison.Ordinal);
    }

    /// <summary>One JSON-RPC error with this code, reason and id (<see langword="null"/>: a JSON null id, present), and, on the request, this status.</summary>
    private static void AssertError(JsonObject error, RawAnswer answer, int status, int code, string reason, int? id)
    {
        if (answer.IsError && answer.Status is { } actual)
        {
            Assert.Equal(status, actual);
        }

        Assert.Equal("2.0", (string?)error["jsonrpc"]);
        Assert.True((int?)error["error"]?["code"] == code, $"expected code {code}: {error.ToJsonString()}");
        Assert.Equal(reason, (string?)error["error"]!["data"]?["reason"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["error"]!["message"]));
        Assert.True(error.ContainsKey("id"), $"the error must carry an id member: {error.ToJsonString()}");
        Assert.Equal(id, (int?)error["id"]);
    }
}
