using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing.Conformance;

namespace AsyncMcp.Aws.Tests;

/// <summary>Speaks to a server at the wire level with plain SQS calls, as a foreign client would.</summary>
public class RawSqsPeer(IAmazonSQS sqs, string requestQueueUrl, string responseQueueUrl) : RawPeer
{
    private readonly Queue<Message> _received = new();

    public string ResponseQueueUrl => responseQueueUrl;

    public string ClientId { get; } = "raw-" + Guid.NewGuid().ToString("N")[..8];

    public override string ReplyAddress => responseQueueUrl;

    public override string ReplyAddressKey => "responseQueueUrl";

    public Task SendAsync(string body, Dictionary<string, string>? attributes = null, bool includeDefaults = true)
    {
        var all = new Dictionary<string, (string Type, string Value)>();
        if (includeDefaults)
        {
            all["MessageType"] = ("String", "jsonrpc");
            all["Timestamp"] = ("Number", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            all["ClientId"] = ("String", ClientId);
        }

        foreach (var pair in attributes ?? [])
        {
            all[pair.Key] = ("String", pair.Value);
        }

        return SendRawAsync(body, all);
    }

    /// <summary>Sends an initialize the way asyncmcp's client does and returns the session id from the reply.</summary>
    public async Task<string> InitializeAsync(string protocolVersion = "2025-11-25")
    {
        var initialize = NameReplyAddress(Initialize(1));
        initialize["params"]!["protocolVersion"] = protocolVersion;
        await SendAsync(initialize.ToJsonString(), new() { ["RequestId"] = "1", ["Method"] = "initialize" });
        var reply = await ReceiveMessageAsync(m => (int?)Body(m)["id"] == 1);
        var sessionId = Attributes(reply)["SessionId"];
        await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", new() { ["Method"] = "notifications/initialized", ["SessionId"] = sessionId });
        return sessionId;
    }

    public static string InitializeBody(int id, string? responseQueueUrl, string protocolVersion = "2025-11-25", bool legacy = false)
    {
        var parameters = new JsonObject
        {
            ["protocolVersion"] = protocolVersion,
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "raw-peer", ["version"] = "0.0.1" },
        };
        if (responseQueueUrl is not null)
        {
            if (legacy)
            {
                parameters["response_queue_url"] = responseQueueUrl;
            }
            else
            {
                parameters["_meta"] = new JsonObject { ["responseQueueUrl"] = responseQueueUrl };
            }
        }

        return new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = "initialize", ["params"] = parameters }.ToJsonString();
    }

    /// <summary>
    /// Receives (and deletes) replies until one matches, failing after the timeout. Replies that came in the same batch
    /// after the match are kept for the next call, so that several replies arriving together are not lost.
    /// </summary>
    public async Task<Message> ReceiveMessageAsync(Func<Message, bool> match, int timeoutSeconds = 30)
    {
        using var cts = Within(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            while (_received.TryDequeue(out var kept))
            {
                if (match(kept))
                {
                    return kept;
                }
            }

            ReceiveMessageResponse response;
            try
            {
                response = await sqs.ReceiveMessageAsync(
                    new ReceiveMessageRequest { QueueUrl = responseQueueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 1, MessageAttributeNames = ["All"] },
                    cts.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException($"No matching reply arrived on {responseQueueUrl} within {timeoutSeconds} s.");
            }

            foreach (var message in response.Messages ?? [])
            {
                await sqs.DeleteMessageAsync(responseQueueUrl, message.ReceiptHandle, TestContext.Current.CancellationToken);
                _received.Enqueue(message);
            }
        }
    }

    /// <summary>Receives (and deletes) replies until <paramref name="count"/> of them match, failing after the timeout.</summary>
    public async Task<List<Message>> ReceiveManyAsync(int count, Func<Message, bool> match, int timeoutSeconds = 30)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(timeoutSeconds);
        var matched = new List<Message>();
        while (matched.Count < count)
        {
            var left = (int)Math.Ceiling((deadline - DateTimeOffset.UtcNow).TotalSeconds);
            try
            {
                matched.Add(await ReceiveMessageAsync(match, Math.Max(left, 1)));
            }
            catch (Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{matched.Count} of {count} matching replies arrived on {responseQueueUrl} within {timeoutSeconds} s.");
            }
        }

        return matched;
    }

    /// <summary>The JSON-RPC payload of a reply, taken out of its SNS envelope when it came in one.</summary>
    public static JsonObject Body(Message message) =>
        JsonNode.Parse(SnsEnvelope.TryUnwrap(message.Body, out var payload, out _) ? payload : message.Body)!.AsObject();

    /// <summary>The wire attributes of a reply: its SQS attributes, or those of its SNS envelope.</summary>
    public static IReadOnlyDictionary<string, string> Attributes(Message message) =>
        SnsEnvelope.TryUnwrap(message.Body, out _, out var enveloped)
            ? enveloped
            : (message.MessageAttributes ?? []).ToDictionary(a => a.Key, a => a.Value.StringValue, StringComparer.Ordinal);

    public override Task<string> OpenSessionAsync() => InitializeAsync();

    public override async Task<RawAnswer> SendAsync(RawRequest request)
    {
        var attributes = new Dictionary<string, string>();
        if (request.SessionId is { } sessionId)
        {
            attributes["SessionId"] = sessionId;
        }

        if (request.ProtocolVersion is { } version)
        {
            attributes["ProtocolVersion"] = version;
        }

        await SendAsync(request.Body, attributes);
        return RawAnswer.None;
    }

    public override async Task<JsonObject> ReceiveAsync(Func<JsonObject, bool> match, TimeSpan? deadline = null)
    {
        var reply = await ReceiveMessageAsync(m => match(Body(m)), (int)(deadline ?? DefaultDeadline).TotalSeconds);

        // asyncmcp reads only messages marked as JSON-RPC: every one a server sends, errors included, carries the mark.
        Assert.Equal("jsonrpc", Attributes(reply)["MessageType"]);
        return Body(reply);
    }

    /// <summary>Hands one message with its attributes (data type, value) to the broker.</summary>
    protected virtual Task SendRawAsync(string body, Dictionary<string, (string Type, string Value)> attributes) =>
        sqs.SendMessageAsync(
            new SendMessageRequest
            {
                QueueUrl = requestQueueUrl,
                MessageBody = body,
                MessageAttributes = attributes.ToDictionary(a => a.Key, a => new MessageAttributeValue { DataType = a.Value.Type, StringValue = a.Value.Value }),
            },
            TestContext.Current.CancellationToken);
}

/// <summary>Speaks to an SNS+SQS server at the wire level: publishes to the server's topic and reads its own queue, subscribed to its own topic.</summary>
public sealed class RawSnsPeer(IAmazonSQS sqs, ISnsClient sns, string serverTopicArn, SnsSqsSubscription endpoint)
    : RawSqsPeer(sqs, requestQueueUrl: "(published to the server's topic)", endpoint.Queue.QueueUrl)
{
    public override string ReplyAddress => endpoint.TopicArn;

    public override string ReplyAddressKey => "clientTopicArn";

    protected override Task SendRawAsync(string body, Dictionary<string, (string Type, string Value)> attributes) =>
        sns.PublishAsync(
            new SnsPublishRequest(serverTopicArn, body) { MessageAttributes = attributes.ToDictionary(a => a.Key, a => new SnsAttributeValue(a.Value.Type, a.Value.Value)) },
            TestContext.Current.CancellationToken);
}
