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
        var reply = await peer.ReceiveAsync(_ => true);

        var sessionId = reply.MessageAttributes["SessionId"].StringValue;
        Assert.NotEqual("attacker-chosen", sessionId);
        Assert.Matches(HexId(), sessionId);
    }

    [Fact]
    public async Task A_disposed_client_closes_its_session_over_the_wire()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.November2025);
        Assert.Equal(1, harness.Server.Router.SessionCount);

        await client.DisposeAsync();

        await SqsEndToEndTests.Eventually(() => harness.Server.Router.SessionCount == 0);
    }

    [Fact]
    public async Task Idle_sessions_expire_and_later_requests_get_a_clear_error()
    {
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.SessionIdleTimeout = TimeSpan.FromMilliseconds(500));
        var client = await harness.ConnectAsync(Protocols.November2025);

        await SqsEndToEndTests.Eventually(() => harness.Server.Router.SessionCount == 0);
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
        while (left.Count == 0)
        {
            var received = await harness.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = shared, MaxNumberOfMessages = 10, WaitTimeSeconds = 5, MessageAttributeNames = ["All"] }, Timeout);
            left.AddRange(received.Messages ?? []);
        }

        var foreign = Assert.Single(left);
        Assert.Equal("someone-else", foreign.MessageAttributes["ClientId"].StringValue);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex HexId();
}
