using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Bad input where SQS itself has a part: a dead-letter queue, envelopes sent straight to the queue, the queue's message
/// size limit, the session limit. (Bad bodies, unknown sessions, unsupported revisions and missing reply addresses are
/// in the conformance suite every transport runs: <see cref="SqsConformanceTests"/>.)
/// </summary>
public sealed class SqsBadInputTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bad_bodies_that_name_a_reply_queue_are_answered_on_first_receipt_and_never_dead_lettered()
    {
        // A dead-letter queue after 3 receives and a short lease: a message the server failed to settle would come back
        // within seconds and end up there.
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.VisibilityTimeout = TimeSpan.FromSeconds(2), requestQueue: new AsyncMcp.Aws.Sqs.SqsQueueSettings { MaxReceiveCount = 3 });
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());
        var cases = BadJsonRpcBodies.All("responseQueueUrl", peer.ResponseQueueUrl);
        foreach (var c in cases)
        {
            await peer.SendAsync(c.Body);
        }

        await peer.ReceiveManyAsync(cases.Count, m => RawSqsPeer.Body(m).ContainsKey("error"));

        // Settled on the first receipt: gone from the request queue, none in the dead-letter queue.
        await EventuallyAsync(async () => await fixture.CountUnsettledAsync(harness.RequestQueueUrl) == 0, what: "An empty request queue");
        var deadLetters = (await harness.Sqs.GetQueueUrlAsync(new Uri(harness.RequestQueueUrl).Segments[^1] + "-dlq", Timeout)).QueueUrl;
        Assert.Equal(0, await fixture.CountUnsettledAsync(deadLetters));
    }

    [Fact]
    public async Task An_sns_envelope_that_cannot_be_read_does_not_hold_up_the_messages_received_with_it()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        // An envelope whose Message holds an unpaired surrogate escape, sent straight to the queue (SNS itself would not).
        await peer.SendAsync("{\"Type\":\"Notification\",\"MessageId\":\"m1\",\"Message\":\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"method\\\":\\\"x\\ud800\\\"}\"}", includeDefaults: false);
        await peer.SendAsync(RawSqsPeer.InitializeBody(41, peer.ResponseQueueUrl), new() { ["Method"] = "initialize", ["RequestId"] = "41" });

        var answer = RawSqsPeer.Body(await peer.ReceiveMessageAsync(m => true));
        Assert.Equal(41, (int)answer["id"]!);
        Assert.NotNull(answer["result"]);
        await EventuallyAsync(async () => await fixture.CountUnsettledAsync(harness.RequestQueueUrl) == 0, what: "An empty request queue");
        Assert.DoesNotContain(harness.Logs.Entries, e => e.Message.Contains("Receiving from", StringComparison.Ordinal));
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
}
