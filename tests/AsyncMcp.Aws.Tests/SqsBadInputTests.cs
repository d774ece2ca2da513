using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>Each kind of bad input gets a clear JSON-RPC error to the right place, and the server keeps serving.</summary>
public sealed class SqsBadInputTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Malformed_json_in_a_session_gets_a_parse_error_with_null_id()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());
        var sessionId = await peer.InitializeAsync();

        await peer.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":", new() { ["SessionId"] = sessionId });

        var error = await ReceiveErrorAsync(peer);
        Assert.Equal(-32700, (int)error["error"]!["code"]!);
        Assert.Null(error["id"]);
        Assert.True(error.ContainsKey("id"), "the error must carry \"id\": null");
        Assert.Equal("parse_error", (string?)error["error"]!["data"]!["reason"]);
        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task Malformed_json_without_a_known_sender_is_logged_and_the_server_keeps_serving()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        await peer.SendAsync("not json at all");

        await SqsEndToEndTests.Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("not valid JSON", StringComparison.Ordinal)));
        await AssertStillServesAsync(harness);
        Assert.Equal(0, await peer.CountVisibleAsync(harness.RequestQueueUrl));
    }

    [Theory]
    [InlineData("""{"hello":"world"}""")]
    [InlineData("""{"jsonrpc":"1.0","id":3,"method":"tools/list"}""")]
    [InlineData("""[{"jsonrpc":"2.0","id":3,"method":"tools/list"}]""")]
    [InlineData("42")]
    public async Task A_body_that_is_not_json_rpc_gets_an_invalid_request_error(string body)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());
        var sessionId = await peer.InitializeAsync();

        await peer.SendAsync(body, new() { ["SessionId"] = sessionId });

        var error = await ReceiveErrorAsync(peer);
        Assert.Equal(-32600, (int)error["error"]!["code"]!);
        Assert.Equal("invalid_message", (string?)error["error"]!["data"]!["reason"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["error"]!["message"]));
        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task An_unknown_session_gets_an_error_with_the_request_id()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = "req-9",
            ["method"] = "tools/list",
            ["params"] = new JsonObject { ["_meta"] = new JsonObject { ["responseQueueUrl"] = peer.ResponseQueueUrl } },
        }.ToJsonString();
        await peer.SendAsync(body, new() { ["SessionId"] = "00000000000000000000000000000000", ["Method"] = "tools/list", ["RequestId"] = "req-9" });

        var error = await ReceiveErrorAsync(peer);
        Assert.Equal("req-9", (string?)error["id"]);
        Assert.Equal(-32600, (int)error["error"]!["code"]!);
        Assert.Equal("session_not_found", (string?)error["error"]!["data"]!["reason"]);
        Assert.Contains("unknown or has expired", (string?)error["error"]!["message"], StringComparison.Ordinal);
        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task A_request_without_a_reply_address_is_logged_and_dropped()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        await peer.SendAsync(RawSqsPeer.InitializeBody(1, responseQueueUrl: null), new() { ["Method"] = "initialize", ["RequestId"] = "1" });

        await SqsEndToEndTests.Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("names no reply address", StringComparison.Ordinal)));
        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);
        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task An_unsupported_protocol_version_gets_an_error_naming_the_supported_ones()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        await peer.SendAsync(RawSqsPeer.InitializeBody(7, peer.ResponseQueueUrl), new() { ["Method"] = "initialize", ["RequestId"] = "7", ["ProtocolVersion"] = "1999-01-01" });

        var error = await ReceiveErrorAsync(peer);
        Assert.Equal(7, (int)error["id"]!);
        Assert.Equal((int)McpErrorCode.UnsupportedProtocolVersion, (int)error["error"]!["code"]!);
        Assert.Contains("2025-11-25", (string?)error["error"]!["message"], StringComparison.Ordinal);
        await AssertStillServesAsync(harness);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task A_response_too_large_for_the_reply_queue_becomes_an_error_for_the_caller(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var smallQueue = await harness.CreateResponseQueueAsync(new() { ["MaximumMessageSize"] = "1024" });
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), smallQueue);

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("big", new Dictionary<string, object?> { ["length"] = 4000 }, cancellationToken: Timeout).AsTask());

        Assert.Equal(McpErrorCode.InternalError, ex.ErrorCode);
        Assert.Contains("1024 bytes", ex.Message, StringComparison.Ordinal);
        var small = await client.CallToolAsync("big", new Dictionary<string, object?> { ["length"] = 10 }, cancellationToken: Timeout);
        Assert.Equal("xxxxxxxxxx", Assert.IsType<TextContentBlock>(Assert.Single(small.Content)).Text);
    }

    [Fact]
    public async Task The_session_limit_gives_a_clear_error()
    {
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.MaxSessions = 1);
        var first = await harness.ConnectAsync(Protocols.November2025);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => harness.ConnectAsync(Protocols.November2025));

        Assert.Contains("maximum of 1 sessions", ex.ToString(), StringComparison.Ordinal);
        await first.PingAsync(cancellationToken: Timeout);
    }

    [Fact]
    public async Task Bodies_dotnet_refuses_late_and_requests_of_the_wrong_shape_are_answered_at_their_reply_queue_on_first_receipt_and_deleted()
    {
        // A dead-letter queue after 3 receives and a short lease: a message the server failed to settle would come back
        // within seconds and end up there.
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.VisibilityTimeout = TimeSpan.FromSeconds(2), requestQueue: new AsyncMcp.Aws.Sqs.SqsQueueSettings { MaxReceiveCount = 3 });
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());
        var cases = Testing.BadJsonRpcBodies.All("responseQueueUrl", peer.ResponseQueueUrl);

        // Each case from its own client id, which the error carries back, so that errors with a null id can be told apart.
        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            await peer.SendAsync(c.Body, new() { ["ClientId"] = $"case-{i}", ["RequestId"] = "999" });
        }

        var errors = await ReceiveByClientIdAsync(peer, cases.Count);
        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            var error = errors[$"case-{i}"];
            Assert.True(error.ContainsKey("id"), c.Name);
            Assert.True(c.Id == (long?)error["id"], $"{c.Name}: id {error["id"]?.ToJsonString() ?? "null"}, expected {c.Id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}");
            Assert.Equal(-32600, (int)error["error"]!["code"]!);
            Assert.Equal("invalid_message", (string?)error["error"]!["data"]!["reason"]);
            Assert.Contains(c.Expected, (string?)error["error"]!["message"], StringComparison.Ordinal);
        }

        // Settled on the first receipt: gone from the request queue, none in the dead-letter queue, no handler failure.
        await AssertQueueEmptyAsync(harness, harness.RequestQueueUrl);
        var deadLetters = (await harness.Sqs.GetQueueUrlAsync(new Uri(harness.RequestQueueUrl).Segments[^1] + "-dlq", Timeout)).QueueUrl;
        Assert.Equal(0, await peer.CountVisibleAsync(deadLetters));
        Assert.DoesNotContain(harness.Logs.Entries, e => e.Message.Contains("Handling message", StringComparison.Ordinal));
        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task A_body_dotnet_refuses_late_in_a_session_is_answered_at_the_session_queue_with_its_id()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());
        var sessionId = await peer.InitializeAsync();

        await peer.SendAsync(
            "{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"\\ud800\"}}}",
            new() { ["SessionId"] = sessionId, ["Method"] = "tools/call", ["RequestId"] = "31" });
        await peer.SendAsync(
            "{\"jsonrpc\":\"2.0\",\"id\":32,\"id\":33,\"method\":\"tools/list\"}",
            new() { ["SessionId"] = sessionId, ["Method"] = "tools/list", ["RequestId"] = "32" });

        var first = await ReceiveErrorAsync(peer);
        var second = await ReceiveErrorAsync(peer);
        Assert.Equal(31, (int)first["id"]!);
        Assert.Contains("unpaired UTF-16 surrogate", (string?)first["error"]!["message"], StringComparison.Ordinal);
        Assert.True(second.ContainsKey("id"));
        Assert.Null(second["id"]);
        Assert.Equal(-32600, (int)second["error"]!["code"]!);
        await AssertQueueEmptyAsync(harness, harness.RequestQueueUrl);

        // The session itself is unharmed.
        await peer.SendAsync(
            "{\"jsonrpc\":\"2.0\",\"id\":34,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"fine\"}}}",
            new() { ["SessionId"] = sessionId, ["Method"] = "tools/call", ["RequestId"] = "34" });
        var answer = RawSqsPeer.Body(await peer.ReceiveAsync(m => RawSqsPeer.Body(m)["id"]?.GetValue<int>() == 34));
        Assert.Equal("Echo: fine", (string?)answer["result"]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task An_sns_envelope_that_cannot_be_read_does_not_hold_up_the_messages_received_with_it()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        // An envelope whose Message holds an unpaired surrogate escape, sent straight to the queue (SNS itself would not).
        await peer.SendAsync("{\"Type\":\"Notification\",\"MessageId\":\"m1\",\"Message\":\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"method\\\":\\\"x\\ud800\\\"}\"}", includeDefaults: false);
        await peer.SendAsync(RawSqsPeer.InitializeBody(41, peer.ResponseQueueUrl), new() { ["Method"] = "initialize", ["RequestId"] = "41" });

        var answer = RawSqsPeer.Body(await peer.ReceiveAsync(m => true));
        Assert.Equal(41, (int)answer["id"]!);
        Assert.NotNull(answer["result"]);
        await AssertQueueEmptyAsync(harness, harness.RequestQueueUrl);
        Assert.DoesNotContain(harness.Logs.Entries, e => e.Message.Contains("Receiving from", StringComparison.Ordinal));
    }

    /// <summary>Receives one error per client id, failing if one is missing or a client id gets two.</summary>
    private static async Task<Dictionary<string, JsonObject>> ReceiveByClientIdAsync(RawSqsPeer peer, int count)
    {
        var errors = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var reply in await peer.ReceiveManyAsync(count, m => RawSqsPeer.Body(m).ContainsKey("error")))
        {
            var clientId = reply.MessageAttributes["ClientId"].StringValue;
            Assert.True(errors.TryAdd(clientId, RawSqsPeer.Body(reply)), $"{clientId} was answered twice");
        }

        return errors;
    }

    /// <summary>Waits until the queue holds nothing, visible or in flight.</summary>
    private static async Task AssertQueueEmptyAsync(SqsHarness harness, string queueUrl)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var attributes = await harness.Sqs.GetQueueAttributesAsync(queueUrl, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"], Timeout);
            if (attributes.ApproximateNumberOfMessages == 0 && attributes.ApproximateNumberOfMessagesNotVisible == 0)
            {
                return;
            }

            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"{queueUrl} still holds {attributes.ApproximateNumberOfMessages} visible and {attributes.ApproximateNumberOfMessagesNotVisible} invisible messages.");
            }

            await Task.Delay(50, Timeout);
        }
    }

    private static async Task<JsonObject> ReceiveErrorAsync(RawSqsPeer peer)
    {
        Message reply = await peer.ReceiveAsync(m => RawSqsPeer.Body(m).ContainsKey("error"));
        Assert.Equal("jsonrpc", reply.MessageAttributes["MessageType"].StringValue);
        return RawSqsPeer.Body(reply);
    }

    private static async Task AssertStillServesAsync(SqsHarness harness)
    {
        var client = await harness.ConnectAsync(Protocols.November2025);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Timeout);
        Assert.Equal("Echo: still here", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }
}
