using System.Text.RegularExpressions;
using Amazon.SQS.Model;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

public sealed partial class SqsSessionTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_mints_session_ids_and_ignores_one_chosen_by_the_client()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        await peer.SendAsync(RawSqsPeer.InitializeBody(1, peer.ResponseQueueUrl), new() { ["Method"] = "initialize", ["RequestId"] = "1", ["SessionId"] = "attacker-chosen" });
        var reply = await peer.ReceiveMessageAsync(_ => true);

        var sessionId = reply.MessageAttributes["SessionId"].StringValue;
        Assert.NotEqual("attacker-chosen", sessionId);
        Assert.Matches(HexId(), sessionId);
    }

    [Fact]
    public async Task A_client_disposed_during_a_call_leaves_nothing_in_flight_on_the_server()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.November2025);
        var call = client.CallToolAsync("hold", cancellationToken: Timeout).AsTask();
        await Eventually(() => harness.State.RunningHolds == 1);

        await client.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => call);

        // The session closed over the wire: its unanswered request is settled, its slot freed, its message deleted.
        await Eventually(() => harness.Server.Dispatcher!.SessionCount == 0 && harness.Server.Dispatcher!.PendingRequestCount == 0);
        Assert.Equal(0, harness.Server.Dispatcher!.Limiter.Count);
        await EventuallyAsync(async () => await fixture.CountVisibleAsync(harness.RequestQueueUrl) == 0);
    }

    [Fact]
    public async Task Reconnecting_through_the_same_transport_is_never_mistaken_for_a_copy()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var transport = new Sqs.SqsClientTransport(harness.Sqs, new Sqs.SqsClientTransportOptions { ServerRequestQueueUrl = harness.RequestQueueUrl, ResponseQueueUrl = await harness.CreateResponseQueueAsync() });
        var arguments = new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 };

        for (var i = 0; i < 2; i++)
        {
            await using var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport, cancellationToken: Timeout);
            await client.CallToolAsync("slow", arguments, cancellationToken: Timeout);
        }

        // Same JSON-RPC ids and bodies both times, but different connections: the tool ran twice.
        Assert.Equal(2, harness.State.SlowStarted);
    }

    [Fact]
    public async Task Idle_sessions_expire_and_later_requests_get_a_clear_error()
    {
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.SessionIdleTimeout = TimeSpan.FromMilliseconds(500));
        var client = await harness.ConnectAsync(Protocols.November2025);

        await Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.ListToolsAsync(cancellationToken: Timeout).AsTask());

        Assert.Equal(McpErrorCode.InvalidRequest, ex.ErrorCode);
        Assert.Contains("unknown or has expired", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_sharing_a_response_queue_get_only_their_own_replies_and_leave_others_alone()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var shared = await harness.CreateResponseQueueAsync();

        // A reply meant for a client that is not running: nobody may delete it.
        await harness.Sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = shared,
            MessageBody = """{"jsonrpc":"2.0","id":1,"result":{}}""",
            MessageAttributes = new()
            {
                ["MessageType"] = new() { DataType = "String", StringValue = "jsonrpc" },
                ["ClientId"] = new() { DataType = "String", StringValue = "someone-else" },
            },
        }, Timeout);

        // A long poll cancelled at dispose may still have been handed the foreign reply by the broker; it then
        // stays invisible for the visibility timeout (not lost), so keep that short here.
        var a = await harness.ConnectAsync(Protocols.November2025, shared, o => o.VisibilityTimeout = TimeSpan.FromSeconds(2));
        var b = await harness.ConnectAsync(null, shared, o => o.VisibilityTimeout = TimeSpan.FromSeconds(2));
        for (var i = 0; i < 5; i++)
        {
            var ra = await a.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"a{i}" }, cancellationToken: Timeout);
            var rb = await b.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"b{i}" }, cancellationToken: Timeout);
            Assert.Equal($"Echo: a{i}", Assert.IsType<TextContentBlock>(Assert.Single(ra.Content)).Text);
            Assert.Equal($"Echo: b{i}", Assert.IsType<TextContentBlock>(Assert.Single(rb.Content)).Text);
        }

        await a.DisposeAsync();
        await b.DisposeAsync();
        var left = new List<Message>();
        await EventuallyAsync(
            async () =>
            {
                var received = await harness.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = shared, MaxNumberOfMessages = 10, WaitTimeSeconds = 5, MessageAttributeNames = ["All"] }, Timeout);
                left.AddRange(received.Messages ?? []);
                return left.Count > 0;
            },
            what: "The foreign reply, visible again");

        var foreign = Assert.Single(left);
        Assert.Equal("someone-else", foreign.MessageAttributes["ClientId"].StringValue);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex HexId();
}
