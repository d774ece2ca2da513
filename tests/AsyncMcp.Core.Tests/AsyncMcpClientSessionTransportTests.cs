using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests;

/// <summary>The client side of a connection, with an in-memory broker: what it sends with each message and what it hands to the SDK.</summary>
public sealed class AsyncMcpClientSessionTransportTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static (AsyncMcpClientSessionTransport Transport, FakeSource Replies, FakeSink Sent) Create(Action<TestClientOptions>? configure = null)
    {
        var options = new TestClientOptions();
        configure?.Invoke(options);
        var replies = new FakeSource(TimeSpan.FromSeconds(5));
        var sent = new FakeSink();
        var transport = new AsyncMcpClientSessionTransport("test", new PolledReplyFeed(replies, 10, null, null), sent, "server", "https://sqs.test/000/reply", ReplyAddressConvention.SqsResponseQueue, options, null);
        transport.Start();
        return (transport, replies, sent);
    }

    private static JsonRpcRequest Request(long id, string method, string? protocolVersion = null) => new()
    {
        Id = new RequestId(id),
        Method = method,
        Params = protocolVersion is null
            ? new JsonObject { ["protocolVersion"] = "2025-11-25" }
            : new JsonObject { ["_meta"] = new JsonObject { ["io.modelcontextprotocol/protocolVersion"] = protocolVersion } },
    };

    private static FakeInboundMessage Answer(long id, string result, string? sessionId = "s1", string? messageId = null) => new(
        $$"""{"jsonrpc":"2.0","id":{{id}},"result":{{result}}}""",
        sessionId is null ? [] : new() { [WireAttributes.SessionId] = sessionId },
        messageId);

    private static async Task<JsonRpcMessage> NextAsync(AsyncMcpClientSessionTransport transport)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return await transport.MessageReader.ReadAsync(cts.Token);
    }

    private static string? VersionOf(OutboundMessage message) => message.Attributes.GetValueOrDefault(WireAttributes.ProtocolVersion);

    [Fact]
    public async Task Each_message_names_its_own_revision_and_initialize_names_none()
    {
        var (transport, replies, sent) = Create();
        await using var _ = transport;

        await transport.SendMessageAsync(Request(1, RequestMethods.ServerDiscover, "2026-07-28"), Timeout);
        Assert.Equal("2026-07-28", VersionOf((await sent.NextAsync()).Message));

        // The probe went unanswered; the fallback initialize asks for 2025-11-25 and must not carry the probe's revision.
        await transport.SendMessageAsync(Request(2, RequestMethods.Initialize), Timeout);
        var initialize = (await sent.NextAsync()).Message;
        Assert.Null(VersionOf(initialize));
        Assert.Equal("https://sqs.test/000/reply", (string?)JsonNode.Parse(initialize.Body)!["params"]!["response_queue_url"]);
        Assert.Equal("https://sqs.test/000/reply", (string?)JsonNode.Parse(initialize.Body)!["params"]!["_meta"]!["responseQueueUrl"]);

        replies.Enqueue(Answer(2, """{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"py","version":"1"}}"""));
        Assert.IsType<JsonRpcResponse>(await NextAsync(transport));
        Assert.Equal("2025-06-18", transport.ProtocolVersion);
        Assert.Equal("s1", transport.SessionId);

        await transport.SendMessageAsync(new JsonRpcNotification { Method = NotificationMethods.InitializedNotification }, Timeout);
        var initialized = (await sent.NextAsync()).Message;
        Assert.Equal("2025-06-18", VersionOf(initialized));
        Assert.Equal("s1", initialized.Attributes[WireAttributes.SessionId]);
        await transport.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(3), Method = RequestMethods.ToolsList }, Timeout);
        Assert.Equal("2025-06-18", VersionOf((await sent.NextAsync()).Message));
    }

    [Fact]
    public async Task A_second_copy_of_an_answer_is_deleted_and_never_handed_to_the_client()
    {
        var (transport, replies, sent) = Create();
        await using var _ = transport;
        await transport.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(7), Method = RequestMethods.ToolsList }, Timeout);

        var first = Answer(7, """{"tools":[]}""", sessionId: null, messageId: "m1");
        var sameMessageAgain = Answer(7, """{"tools":[]}""", sessionId: null, messageId: "m1");
        var copy = Answer(7, """{"tools":[]}""", sessionId: null, messageId: "m2");
        replies.Enqueue(first);
        replies.Enqueue(sameMessageAgain);
        replies.Enqueue(copy);

        Assert.Equal(new RequestId(7), Assert.IsType<JsonRpcResponse>(await NextAsync(transport)).Id);
        await Task.WhenAll(first.WhenCompleted, sameMessageAgain.WhenCompleted, copy.WhenCompleted).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.False(transport.MessageReader.TryRead(out var extra), $"a copy reached the client: {extra}");

        // The connection goes on: the next answer is handed on as usual.
        await transport.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(8), Method = RequestMethods.ToolsList }, Timeout);
        replies.Enqueue(Answer(8, """{"tools":[]}""", sessionId: null));
        Assert.Equal(new RequestId(8), Assert.IsType<JsonRpcResponse>(await NextAsync(transport)).Id);
        Assert.Equal(2, sent.Sent.Reader.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_session_close_is_sent_only_to_a_server_that_declared_it_understands_it(bool declared)
    {
        var (transport, replies, sent) = Create();
        await transport.SendMessageAsync(Request(1, RequestMethods.Initialize), Timeout);
        await sent.NextAsync();
        var meta = declared ? $$""","_meta":{"{{WireMethods.SessionCloseDeclaration}}":true}""" : string.Empty;
        replies.Enqueue(Answer(1, $$"""{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}{{meta}}}"""));
        await NextAsync(transport);

        await transport.DisposeAsync();

        var closes = new List<OutboundMessage>();
        while (sent.Sent.Reader.TryRead(out var item))
        {
            closes.Add(item.Message);
        }

        if (declared)
        {
            var close = Assert.Single(closes);
            Assert.Equal(WireMethods.SessionClose, close.Attributes[WireAttributes.Method]);
            Assert.Equal("s1", close.Attributes[WireAttributes.SessionId]);
        }
        else
        {
            Assert.Empty(closes);
        }
    }

    [Fact]
    public async Task Discover_to_an_initialize_only_server_is_answered_on_its_behalf_with_the_one_revision_to_ask_for()
    {
        var (transport, _, sent) = Create(o =>
        {
            o.InitializeOnlyServer = true;
            o.InitializeProtocolVersion = "2025-06-18";
        });
        await using var _ = transport;

        await transport.SendMessageAsync(Request(1, RequestMethods.ServerDiscover, "2026-07-28"), Timeout);

        var answer = Assert.IsType<JsonRpcResponse>(await NextAsync(transport));
        Assert.Equal(new RequestId(1), answer.Id);
        var discovered = answer.Result.Deserialize<DiscoverResult>(McpJsonUtilities.DefaultOptions)!;
        Assert.Equal(["2025-06-18"], discovered.SupportedVersions);
        Assert.Equal(0, sent.Sent.Reader.Count);
    }

    [Fact]
    public void An_initialize_revision_that_has_no_initialize_handshake_is_refused_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new TestClientOptions { InitializeProtocolVersion = "2026-07-28" }.Validate());
        Assert.Contains("TestClientOptions.InitializeProtocolVersion must be one of 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25", error.Message, StringComparison.Ordinal);
    }
}
