using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;

namespace AsyncMcp.Core.Tests;

/// <summary>The one receive loop of a shared reply queue, and how it hands each reply to its connection.</summary>
public sealed class ReplyDemultiplexerTests
{
    private const string Body = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}";

    [Fact]
    public async Task Replies_go_to_the_connection_their_client_id_names_in_arrival_order()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        await using var a = demux.Subscribe();
        var aReplies = Collect(a);
        await using var b = demux.Subscribe();
        var bReplies = Collect(b);
        a.ClaimClient("a");
        b.ClaimClient("b");
        demux.Start();

        var sent = Enumerable.Range(0, 20).Select(i => Reply(clientId: i % 2 == 0 ? "a" : "b", id: $"m{i}")).ToList();
        foreach (var message in sent)
        {
            source.Enqueue(message);
        }

        var forA = await ReceiveAsync(aReplies, 10);
        var forB = await ReceiveAsync(bReplies, 10);
        Assert.Equal(sent.Where((_, i) => i % 2 == 0).Select(m => m.MessageId), forA.Select(m => m.MessageId));
        Assert.Equal(sent.Where((_, i) => i % 2 == 1).Select(m => m.MessageId), forB.Select(m => m.MessageId));
        Assert.All(sent, m => Assert.Equal(0, m.Releases));
    }

    [Fact]
    public async Task A_session_learnt_from_an_answer_routes_replies_that_name_only_the_session()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        await using var a = demux.Subscribe();
        var aReplies = Collect(a);
        await using var b = demux.Subscribe();
        var bReplies = Collect(b);
        a.ClaimClient("a");
        b.ClaimClient("b");
        demux.Start();

        source.Enqueue(Reply(clientId: "b", sessionId: "s-b", id: "opened"));
        Assert.Equal("opened", (await ReceiveAsync(bReplies, 1))[0].MessageId);
        source.Enqueue(Reply(sessionId: "s-b", id: "later"));

        Assert.Equal("later", (await ReceiveAsync(bReplies, 1))[0].MessageId);
        Assert.Equal("s-b", b.SessionId);
        Assert.Null(a.SessionId);
    }

    [Fact]
    public async Task A_reply_naming_neither_goes_to_the_only_connection_still_without_a_session_else_back_to_the_queue()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        await using var a = demux.Subscribe();
        var aReplies = Collect(a);
        await using var b = demux.Subscribe();
        var bReplies = Collect(b);
        a.ClaimClient("a");
        b.ClaimClient("b");
        demux.Start();

        // Two connections wait for a session: an answer that names no connection cannot be placed here.
        var ambiguous = Reply(sessionId: "python-session", id: "ambiguous");
        source.Enqueue(ambiguous);
        await Eventually(() => ambiguous.Releases == 1);

        // Once one of them has its session, the other is the only one waiting.
        a.ClaimSession("s-a");
        var answer = Reply(sessionId: "python-session", id: "answer");
        source.Enqueue(answer);
        Assert.Equal("answer", (await ReceiveAsync(bReplies, 1))[0].MessageId);
    }

    [Fact]
    public async Task Replies_for_a_connection_of_another_process_are_handed_back_and_for_a_closed_one_deleted()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        var closing = demux.Subscribe();
        var closingReplies = Collect(closing);
        closing.ClaimClient("closed");
        await using var other = demux.Subscribe();
        var otherReplies = Collect(other);
        other.ClaimClient("other");
        other.ClaimSession("other-session");
        demux.Start();
        await closing.DisposeAsync();
        Assert.Equal(1, demux.SubscriptionCount);

        var foreign = Reply(clientId: "elsewhere", id: "foreign");
        var late = Reply(clientId: "closed", id: "late");
        source.Enqueue(foreign);
        source.Enqueue(late);

        await Eventually(() => foreign.Releases == 1 && late.Completions == 1);
        Assert.Equal(0, foreign.Completions);
        Assert.Equal(0, late.Releases);
    }

    [Fact]
    public async Task Replies_for_a_connection_that_takes_none_yet_are_handed_back_not_lost()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        await using var a = demux.Subscribe();
        a.ClaimClient("a");
        await using var observer = demux.Subscribe();
        var observerReplies = Collect(observer);
        observer.ClaimClient("observer");
        demux.Start();

        var early = Reply(clientId: "a", id: "early");
        var marker = Reply(clientId: "observer", id: "marker");
        source.Enqueue(early);
        source.Enqueue(marker);
        await ReceiveAsync(observerReplies, 1);

        await Eventually(() => early.Releases == 1);
        Assert.Equal(0, early.Completions);
    }

    [Fact]
    public async Task A_fatal_receive_error_ends_every_subscription_with_that_error_and_later_ones_at_once()
    {
        var gone = new InvalidOperationException("the queue does not exist");
        var source = new FakeSource(TimeSpan.FromSeconds(30)) { Fail = () => gone };
        await using var demux = new ReplyDemultiplexer(source, 10, isFatalReceiveError: ex => ex == gone);
        await using var a = demux.Subscribe();
        var aReplies = Collect(a);
        demux.Start();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => a.Completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Same(gone, error);
        await using var later = demux.Subscribe();
        Assert.Same(gone, await Assert.ThrowsAsync<InvalidOperationException>(() => later.Completion.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task With_no_subscriber_the_loop_lets_a_poll_in_flight_finish_and_starts_no_new_one_until_one_comes()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        var a = demux.Subscribe();
        var aReplies = Collect(a);
        a.ClaimClient("a");
        demux.Start();
        await Eventually(() => source.RequestedCounts.Count == 1);

        await a.DisposeAsync();
        var stray = Reply(clientId: "elsewhere", id: "stray");
        source.Enqueue(stray);

        // The poll in flight was not cancelled: it returned the message, which went back to the queue ...
        await Eventually(() => stray.Releases == 1);

        // ... and no further poll starts while nobody listens.
        Assert.Single(source.RequestedCounts);
        await using var b = demux.Subscribe();
        var bReplies = Collect(b);
        b.ClaimClient("b");
        source.Enqueue(Reply(clientId: "b", id: "for-b"));
        Assert.Equal("for-b", (await ReceiveAsync(bReplies, 1))[0].MessageId);
        Assert.True(source.RequestedCounts.Count >= 2);
    }

    [Fact]
    public async Task The_client_transport_claims_its_id_and_session_on_a_subscription()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        await using var demux = new ReplyDemultiplexer(source, 10);
        var subscription = demux.Subscribe();
        await using var transport = new AsyncMcpClientSessionTransport(
            "test",
            subscription,
            new FakeSink(),
            "server",
            "reply",
            ReplyAddressConvention.SqsResponseQueue,
            new TestClientOptions(),
            loggerFactory: null) { OwnedResources = subscription };
        transport.Start();
        demux.Start();
        Assert.Equal(transport.ClientId, subscription.ClientId);

        await transport.SendMessageAsync(new ModelContextProtocol.Protocol.JsonRpcRequest { Id = new ModelContextProtocol.Protocol.RequestId(1), Method = "initialize" }, TestContext.Current.CancellationToken);
        source.Enqueue(new FakeInboundMessage("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", new() { [WireAttributes.ClientId] = transport.ClientId, [WireAttributes.SessionId] = "s1" }));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await transport.MessageReader.ReadAsync(cts.Token);

        Assert.Equal("s1", transport.SessionId);
        Assert.Equal("s1", subscription.SessionId);
        await transport.DisposeAsync();
        Assert.Equal(0, demux.SubscriptionCount);
    }

    private static FakeInboundMessage Reply(string? clientId = null, string? sessionId = null, string? id = null)
    {
        var attributes = new Dictionary<string, string>();
        if (clientId is not null)
        {
            attributes[WireAttributes.ClientId] = clientId;
        }

        if (sessionId is not null)
        {
            attributes[WireAttributes.SessionId] = sessionId;
        }

        return new FakeInboundMessage(Body, attributes, id);
    }

    /// <summary>Starts a subscription with a handler that keeps what it is handed, in order.</summary>
    private static System.Threading.Channels.Channel<IInboundMessage> Collect(ReplySubscription subscription)
    {
        var replies = System.Threading.Channels.Channel.CreateUnbounded<IInboundMessage>();
        subscription.Start((message, cancellationToken) => replies.Writer.WriteAsync(message, cancellationToken).AsTask());
        return replies;
    }

    private static async Task<List<IInboundMessage>> ReceiveAsync(System.Threading.Channels.Channel<IInboundMessage> replies, int count)
    {
        using var cts = Within(TimeSpan.FromSeconds(10));
        var received = new List<IInboundMessage>();
        while (received.Count < count)
        {
            received.Add(await replies.Reader.ReadAsync(cts.Token));
        }

        return received;
    }

}

/// <summary>Client options with nothing of a particular broker.</summary>
internal sealed class TestClientOptions : AsyncMcpClientTransportOptions;
