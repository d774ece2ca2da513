using System.Text.Json.Nodes;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using ModelContextProtocol.Server;

namespace AsyncMcp.Core.Tests;

/// <summary>The dispatcher's delivery bookkeeping, with an in-memory broker.</summary>
public sealed class MessageDispatcherTests
{
    private sealed class Options : AsyncMcpServerTransportOptions;

    private static readonly TaskCompletionSource s_never = new();

    private static (MessageDispatcher Router, FakeSink Sink, TaskCompletionSource Gate, Func<int> Runs) Create(TimeSpan? lease = null, Action<Options>? configure = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, bool redelivers = true, bool deadLetters = false)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        var serverOptions = new McpServerOptions { ToolCollection = [] };
        serverOptions.ToolCollection.Add(McpServerTool.Create(async () => { Interlocked.Increment(ref runs); await gate.Task; return "ok"; }, new() { Name = "wait" }));
        serverOptions.ToolCollection.Add(McpServerTool.Create(() => "pong", new() { Name = "fast" }));
        var options = new Options();
        configure?.Invoke(options);
        var sink = new FakeSink();
        var endpoint = new InboundEndpoint { MessagingSystem = "test", Description = "fake", LeaseDuration = lease, Redelivers = redelivers, DeadLetters = deadLetters };
        var router = new MessageDispatcher(sink, ReplyAddressConvention.SqsResponseQueue, options, serverOptions, endpoint, loggerFactory);
        router.Start();
        return (router, sink, gate, () => Volatile.Read(ref runs));
    }

    private static FakeInboundMessage Initialize(string replyTo = "https://sqs.test/000/reply-q", string clientId = "c1") => new(
        RawInitialize(replyTo),
        new() { [WireAttributes.ClientId] = clientId });

    private static string RawInitialize(string replyTo) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = 1,
        ["method"] = "initialize",
        ["params"] = new JsonObject
        {
            ["protocolVersion"] = "2025-11-25",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "t", ["version"] = "1" },
            ["_meta"] = new JsonObject { ["responseQueueUrl"] = replyTo },
        },
    }.ToJsonString();

    private static FakeInboundMessage Call(string sessionId, int id, string tool) => new(
        "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":{}}}",
        new() { [WireAttributes.SessionId] = sessionId, [WireAttributes.ClientId] = "c1" });

    private static async Task<string> OpenSessionAsync(MessageDispatcher router, FakeSink sink)
    {
        var init = Initialize();
        await router.DispatchAsync(init);
        var (address, reply) = await sink.NextAsync();
        Assert.Equal("https://sqs.test/000/reply-q", address);
        await init.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
        var sessionId = reply.Attributes[WireAttributes.SessionId];
        await router.DispatchAsync(new FakeInboundMessage("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", new() { [WireAttributes.SessionId] = sessionId }));
        return sessionId;
    }

    [Fact]
    public async Task A_request_message_is_completed_only_after_its_answer_reached_the_broker()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);

        var call = Call(sessionId, 2, "wait");
        await router.DispatchAsync(call);
        await Eventually(() => runs() > 0);

        Assert.Equal(0, call.Completions);
        Assert.Equal(1, router.PendingRequestCount);

        gate.SetResult();
        var (_, answer) = await sink.NextAsync();
        Assert.Contains("\"id\":2", answer.Body, StringComparison.Ordinal);
        Assert.Equal("c1", answer.Attributes[WireAttributes.ClientId]);
        await call.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, router.PendingRequestCount);
    }

    [Fact]
    public async Task A_request_whose_answer_cannot_be_sent_is_left_for_redelivery()
    {
        var (router, sink, _, _) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        sink.Fail = m => m.Body.Contains("pong", StringComparison.Ordinal) ? new AsyncMcpTransportException("broker down", isTransient: true) : null;

        var call = Call(sessionId, 3, "fast");
        await router.DispatchAsync(call);

        await Eventually(() => router.PendingRequestCount == 0);

        Assert.Equal(0, call.Completions);
    }

    [Theory]
    [InlineData(true, "left for the broker to deliver again")]
    [InlineData(false, "nothing delivers it again: its client has to send it again")]
    public async Task A_request_whose_answer_cannot_be_sent_is_logged_as_its_source_treats_it(bool sourceRedelivers, string expected)
    {
        var logs = new CollectingLoggerFactory();
        var (router, sink, _, _) = Create(loggerFactory: logs, redelivers: sourceRedelivers);
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        sink.Fail = m => m.Body.Contains("pong", StringComparison.Ordinal) ? new AsyncMcpTransportException("down", isTransient: false) : null;

        await router.DispatchAsync(Call(sessionId, 3, "fast"));

        // The slot is freed before the failure is logged: wait for the log line itself.
        await Eventually(() => logs.Messages.Any(m => m.Contains("request 3", StringComparison.Ordinal) && m.Contains(expected, StringComparison.Ordinal)));
        await Eventually(() => router.PendingRequestCount == 0);
    }

    [Fact]
    public async Task A_duplicate_of_a_request_in_flight_is_not_run_again()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);

        var first = Call(sessionId, 4, "wait");
        var copy = Call(sessionId, 4, "wait");
        await router.DispatchAsync(first);
        await Eventually(() => runs() > 0);

        await router.DispatchAsync(copy);
        await copy.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
        gate.SetResult();
        await first.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(1, runs());
    }

    [Fact]
    public async Task A_request_delivered_again_after_it_was_answered_gets_the_same_answer_without_running_again()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        gate.SetResult();

        var first = Call(sessionId, 7, "wait");
        await router.DispatchAsync(first);
        var (_, answer) = await sink.NextAsync();
        await first.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));

        var redelivered = Call(sessionId, 7, "wait");
        await router.DispatchAsync(redelivered);
        var (_, again) = await sink.NextAsync();

        Assert.Equal(answer.Body, again.Body);
        Assert.Equal(1, runs());
        Assert.Equal(1, redelivered.Completions);
    }

    [Fact]
    public async Task A_redelivered_initialize_gets_the_same_session_instead_of_a_second_one()
    {
        var (router, sink, _, _) = Create();
        await using var _ = router;

        await router.DispatchAsync(Initialize());
        var (_, first) = await sink.NextAsync();
        await router.DispatchAsync(Initialize());
        var (_, second) = await sink.NextAsync();

        Assert.Equal(first.Attributes[WireAttributes.SessionId], second.Attributes[WireAttributes.SessionId]);
        Assert.Equal(1, router.SessionCount);
    }

    [Fact]
    public async Task A_different_request_reusing_an_answered_id_is_run()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        gate.SetResult();

        await router.DispatchAsync(Call(sessionId, 8, "wait"));
        await sink.NextAsync();
        await router.DispatchAsync(Call(sessionId, 8, "fast"));
        var (_, second) = await sink.NextAsync();

        Assert.Contains("pong", second.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Input_nobody_can_be_told_about_goes_to_the_dead_letter_queue_when_there_is_one()
    {
        var (router, _, _, _) = Create();
        await using var _ = router;
        var withoutRedrive = new FakeInboundMessage("not json");
        await router.DispatchAsync(withoutRedrive);
        Assert.Equal(1, withoutRedrive.Completions);

        var (redriving, _, _, _) = Create(deadLetters: true);
        await using var __ = redriving;
        var withRedrive = new FakeInboundMessage("not json");
        await redriving.DispatchAsync(withRedrive);
        Assert.Equal(0, withRedrive.Completions);
        Assert.Equal(1, withRedrive.Releases);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":{\"n\":1},\"method\":\"tools/list\",%P}", null)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"tools/list\",%P}", null)]
    [InlineData("{\"id\":4,\"method\":\"tools/list\",%P}", 4L)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":[],%P}", 5L)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":6,\"id\":7,\"method\":\"tools/list\",%P}", null)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"fast\",\"arguments\":{\"x\":\"\\ud800\"},\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/own-q\"}}}", 8L)]
    public async Task A_sessionless_message_of_the_wrong_shape_is_answered_at_the_reply_address_it_names(string body, long? id)
    {
        var (router, sink, _, _) = Create(deadLetters: true);
        await using var _ = router;
        var message = new FakeInboundMessage(body.Replace("%P", "\"params\":{\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/own-q\"}}", StringComparison.Ordinal), new() { [WireAttributes.ClientId] = "c9", [WireAttributes.RequestId] = "999" });

        await router.DispatchAsync(message);
        var (address, error) = await sink.NextAsync();

        Assert.Equal("https://sqs.test/000/own-q", address);
        var json = JsonNode.Parse(error.Body)!;
        Assert.Equal(-32600, (int)json["error"]!["code"]!);
        Assert.Equal("invalid_message", (string?)json["error"]!["data"]!["reason"]);
        Assert.Equal(id, (long?)json["id"]);
        Assert.True(json.AsObject().ContainsKey("id"));
        Assert.Equal("c9", error.Attributes[WireAttributes.ClientId]);
        Assert.Equal(1, message.Completions);
        Assert.Equal(0, message.Releases);
        Assert.Equal(0, router.SessionCount);
    }

    [Fact]
    public async Task The_same_message_handed_out_again_while_running_is_kept_with_its_new_receipt()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);

        var first = Call(sessionId, 11, "wait");
        await router.DispatchAsync(first);
        await Eventually(() => runs() > 0);

        var again = new FakeInboundMessage(first.Body, new() { [WireAttributes.SessionId] = sessionId, [WireAttributes.ClientId] = "c1" }, first.MessageId);
        await router.DispatchAsync(again);
        Assert.Equal(0, again.Completions);

        gate.SetResult();
        await again.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, first.Completions);
        Assert.Equal(1, runs());
    }

    [Fact]
    public async Task A_different_request_reusing_the_id_of_a_running_one_is_refused_with_an_error()
    {
        var (router, sink, gate, runs) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        await router.DispatchAsync(Call(sessionId, 12, "wait"));
        await Eventually(() => runs() > 0);

        var other = new FakeInboundMessage(
            "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"fast\",\"arguments\":{},\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"}}}",
            new() { [WireAttributes.SessionId] = sessionId, [WireAttributes.ClientId] = "c1" });
        await router.DispatchAsync(other);
        var (_, error) = await sink.NextAsync();

        Assert.Contains("already in use", error.Body, StringComparison.Ordinal);
        Assert.Equal(1, other.Completions);
        gate.SetResult();
    }

    [Fact]
    public async Task Leases_of_long_requests_are_renewed_while_they_run()
    {
        var (router, sink, gate, _) = Create(lease: TimeSpan.FromMilliseconds(400));
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);

        var call = Call(sessionId, 5, "wait");
        await router.DispatchAsync(call);
        await Eventually(() => Volatile.Read(ref call.Extensions) >= 2);

        gate.SetResult();
        await call.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_answer_to_initialize_declares_that_the_server_understands_the_session_close_and_later_answers_do_not()
    {
        var (router, sink, _, _) = Create();
        await using var _ = router;
        var init = Initialize();
        await router.DispatchAsync(init);
        var (_, answer) = await sink.NextAsync();
        Assert.True((bool?)JsonNode.Parse(answer.Body)!["result"]!["_meta"]![WireMethods.SessionCloseDeclaration]);

        var sessionId = answer.Attributes[WireAttributes.SessionId];
        await router.DispatchAsync(new FakeInboundMessage("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", new() { [WireAttributes.SessionId] = sessionId }));
        await router.DispatchAsync(Call(sessionId, 2, "fast"));
        var (_, result) = await sink.NextAsync();
        Assert.Null(JsonNode.Parse(result.Body)!["result"]!["_meta"]?[WireMethods.SessionCloseDeclaration]);
    }

    [Fact]
    public async Task A_close_message_ends_the_session()
    {
        var (router, sink, _, _) = Create();
        await using var _ = router;
        var sessionId = await OpenSessionAsync(router, sink);
        Assert.Equal(1, router.SessionCount);

        var close = new FakeInboundMessage($$"""{"jsonrpc":"2.0","method":"{{WireMethods.SessionClose}}"}""", new() { [WireAttributes.SessionId] = sessionId });
        await router.DispatchAsync(close);

        Assert.Equal(0, router.SessionCount);
        Assert.Equal(1, close.Completions);
    }

    [Fact]
    public async Task Sessionless_requests_are_answered_at_their_own_reply_address()
    {
        var (router, sink, _, _) = Create();
        await using var _ = router;
        var request = new FakeInboundMessage(
            """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"fast","arguments":{},"_meta":{"responseQueueUrl":"https://sqs.test/000/per-request-q","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""",
            new() { [WireAttributes.ClientId] = "stateless-client" });

        await router.DispatchAsync(request);
        var (address, answer) = await sink.NextAsync();

        Assert.Equal("https://sqs.test/000/per-request-q", address);
        Assert.Contains("pong", answer.Body, StringComparison.Ordinal);
        Assert.False(answer.Attributes.ContainsKey(WireAttributes.SessionId));
        Assert.Equal("stateless-client", answer.Attributes[WireAttributes.ClientId]);
        await request.WhenCompleted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Shutdown_hands_unfinished_requests_back_to_the_broker()
    {
        var (router, sink, _, runs) = Create(configure: o => o.ShutdownDrainTimeout = TimeSpan.FromMilliseconds(100));
        var sessionId = await OpenSessionAsync(router, sink);
        var call = Call(sessionId, 6, "wait");
        await router.DispatchAsync(call);
        await Eventually(() => runs() > 0);

        await router.DisposeAsync();

        Assert.Equal(1, call.Releases);
        Assert.Equal(0, call.Completions);
        Assert.Equal(0, router.SessionCount);
    }
}
