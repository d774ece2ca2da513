using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;

namespace AsyncMcp.Aws.Tests;

/// <summary>Observers, filter policies and bad input on SNS+SQS.</summary>
public sealed class SnsSqsFanOutTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_observer_queue_sees_every_request_while_exactly_one_server_answers()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);
        var observer = await harness.Provisioner.EnsureSubscribedQueueAsync(harness.ServerTopicArn, FauxqsEmulator.UniqueName("audit"));
        var toolCallsOnly = await harness.Provisioner.EnsureSubscribedQueueAsync(
            harness.ServerTopicArn,
            FauxqsEmulator.UniqueName("calls-only"),
            new SnsSqsSubscriptionSettings { FilterPolicy = """{"Method":["tools/call"]}""" });
        var endpoint = await harness.CreateClientEndpointAsync();
        var replies = await harness.Provisioner.EnsureSubscribedQueueAsync(endpoint.TopicArn, FauxqsEmulator.UniqueName("reply-audit"));
        var client = await harness.ConnectAsync(Protocols.November2025, endpoint);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal($"Echo: {i}", SnsSqsEndToEndTests.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"{i}" }, cancellationToken: Timeout)));
        }

        await client.ListToolsAsync(cancellationToken: Timeout);

        // initialize, notifications/initialized, 5 × tools/call, tools/list: every one is copied to the observer.
        var audit = await DrainAsync(observer.Queue.QueueUrl, expected: 8);
        Assert.Equal(8, audit.Count);
        Assert.Equal(5, audit.Count(m => m.MessageAttributes["Method"].StringValue == "tools/call"));
        Assert.Contains(audit, m => m.MessageAttributes["Method"].StringValue == "initialize");
        Assert.Contains(audit, m => m.MessageAttributes["Method"].StringValue == "tools/list");

        // The filtered subscription gets only tools/call.
        var calls = await DrainAsync(toolCallsOnly.Queue.QueueUrl, expected: 5);
        Assert.All(calls, m => Assert.Equal("tools/call", m.MessageAttributes["Method"].StringValue));

        // Exactly one answer per request reached the client's topic: initialize, 5 × tools/call, tools/list.
        var answers = await DrainAsync(replies.Queue.QueueUrl, expected: 7);
        Assert.Equal(7, answers.Count);
        Assert.Equal(7, answers.Select(m => JsonNode.Parse(m.Body)!["id"]!.ToJsonString()).Distinct().Count());
    }

    [Fact]
    public async Task Publishing_to_a_server_topic_that_does_not_exist_fails_the_connection_clearly()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);
        var endpoint = await harness.CreateClientEndpointAsync();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => McpClient.CreateAsync(
            new SnsSqsClientTransport(fixture.Sqs, fixture.Sns, new SnsSqsClientTransportOptions
            {
                ServerTopicArn = "arn:aws:sns:us-east-1:000000000000:no-such-topic",
                ClientTopicArn = endpoint.TopicArn,
                ClientQueueUrl = endpoint.Queue.QueueUrl,
            }),
            new McpClientOptions { ProtocolVersion = Protocols.November2025 },
            cancellationToken: Timeout));

        Assert.Contains("NotFound", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_or_malformed_reply_topic_is_logged_and_the_server_keeps_serving()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);

        foreach (var meta in new[] { new JsonObject(), new JsonObject { ["clientTopicArn"] = "not-an-arn" } })
        {
            var body = new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = 1,
                ["method"] = "initialize",
                ["params"] = new JsonObject { ["protocolVersion"] = "2025-11-25", ["capabilities"] = new JsonObject(), ["clientInfo"] = new JsonObject { ["name"] = "x", ["version"] = "1" }, ["_meta"] = meta },
            }.ToJsonString();
            await fixture.Sns.PublishAsync(new SnsPublishRequest(harness.ServerTopicArn, body)
            {
                MessageAttributes = new Dictionary<string, SnsAttributeValue> { ["MessageType"] = new("String", "jsonrpc"), ["ClientId"] = new("String", Guid.NewGuid().ToString("N")) },
            }, Timeout);
        }

        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("names no reply address", StringComparison.Ordinal)));
        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("malformed reply address", StringComparison.Ordinal) && e.Message.Contains("not-an-arn", StringComparison.Ordinal)));
        var client = await harness.ConnectAsync(Protocols.November2025);
        Assert.Equal("Echo: fine", SnsSqsEndToEndTests.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "fine" }, cancellationToken: Timeout)));
    }

    [Fact]
    public async Task A_reply_topic_that_does_not_exist_is_logged_with_the_session_and_the_server_keeps_serving()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, configure: o => o.VisibilityTimeout = TimeSpan.FromSeconds(1));
        var body = RawSqsPeer.InitializeBody(1, null).Replace("\"clientInfo\"", "\"_meta\":{\"clientTopicArn\":\"arn:aws:sns:us-east-1:000000000000:gone\"},\"clientInfo\"", StringComparison.Ordinal);
        await fixture.Sns.PublishAsync(new SnsPublishRequest(harness.ServerTopicArn, body)
        {
            MessageAttributes = new Dictionary<string, SnsAttributeValue> { ["MessageType"] = new("String", "jsonrpc") },
        }, Timeout);

        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("could not be sent to arn:aws:sns:us-east-1:000000000000:gone", StringComparison.Ordinal)));
        var client = await harness.ConnectAsync(null);
        Assert.Equal("Echo: fine", SnsSqsEndToEndTests.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "fine" }, cancellationToken: Timeout)));
    }

    [Fact]
    public async Task An_envelope_that_is_not_valid_json_gets_a_parse_error_in_its_session()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);
        var endpoint = await harness.CreateClientEndpointAsync();
        var client = await harness.ConnectAsync(Protocols.November2025, endpoint);
        var sessionId = ((ModelContextProtocol.McpSession)client).SessionId!;

        // Straight onto the server's queue, as a broken SNS envelope.
        await fixture.Sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = harness.ServerQueue.Queue.QueueUrl,
            MessageBody = """{"Type":"Notification","Message":"{\"jsonrpc\":\"2.0\",""",
            MessageAttributes = new() { ["SessionId"] = new() { DataType = "String", StringValue = sessionId } },
        }, Timeout);

        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("rejected with error -32700", StringComparison.Ordinal)));
        Assert.Equal("Echo: fine", SnsSqsEndToEndTests.Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "fine" }, cancellationToken: Timeout)));
    }

    private async Task<List<Message>> DrainAsync(string queueUrl, int expected)
    {
        var messages = new List<Message>();
        await EventuallyAsync(
            async () =>
            {
                var received = await fixture.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 2, MessageAttributeNames = ["All"] }, Timeout);
                messages.AddRange(received.Messages ?? []);
                return messages.Count >= expected;
            },
            what: $"{expected} messages on {queueUrl}");

        var extra = await fixture.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 1, MessageAttributeNames = ["All"] }, Timeout);
        messages.AddRange(extra.Messages ?? []);
        return messages;
    }
}
