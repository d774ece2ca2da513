using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Aws.Tests;

/// <summary>Speaks to a server at the wire level with plain SQS calls, as a foreign client would.</summary>
public sealed class RawSqsPeer(IAmazonSQS sqs, string requestQueueUrl, string responseQueueUrl)
{
    private readonly Queue<Message> _received = new();

    public string ResponseQueueUrl => responseQueueUrl;

    public string ClientId { get; } = "raw-" + Guid.NewGuid().ToString("N")[..8];

    public Task SendAsync(string body, Dictionary<string, string>? attributes = null, bool includeDefaults = true)
    {
        var all = new Dictionary<string, MessageAttributeValue>();
        if (includeDefaults)
        {
            all["MessageType"] = new MessageAttributeValue { DataType = "String", StringValue = "jsonrpc" };
            all["Timestamp"] = new MessageAttributeValue { DataType = "Number", StringValue = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) };
            all["ClientId"] = new MessageAttributeValue { DataType = "String", StringValue = ClientId };
        }

        foreach (var pair in attributes ?? [])
        {
            all[pair.Key] = new MessageAttributeValue { DataType = "String", StringValue = pair.Value };
        }

        return sqs.SendMessageAsync(new SendMessageRequest { QueueUrl = requestQueueUrl, MessageBody = body, MessageAttributes = all });
    }

    /// <summary>Sends an initialize the way asyncmcp's client does and returns the session id from the reply.</summary>
    public async Task<string> InitializeAsync(string protocolVersion = "2025-11-25")
    {
        await SendAsync(InitializeBody(1, responseQueueUrl, protocolVersion), new() { ["RequestId"] = "1", ["Method"] = "initialize" });
        var reply = await ReceiveAsync(m => true);
        var sessionId = reply.MessageAttributes["SessionId"].StringValue;
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
    public async Task<Message> ReceiveAsync(Func<Message, bool> match, int timeoutSeconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
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
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"No matching reply arrived on {responseQueueUrl} within {timeoutSeconds} s.");
            }

            foreach (var message in response.Messages ?? [])
            {
                await sqs.DeleteMessageAsync(responseQueueUrl, message.ReceiptHandle);
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
                matched.Add(await ReceiveAsync(match, Math.Max(left, 1)));
            }
            catch (Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{matched.Count} of {count} matching replies arrived on {responseQueueUrl} within {timeoutSeconds} s.");
            }
        }

        return matched;
    }

    public static JsonObject Body(Message message) => JsonNode.Parse(message.Body)!.AsObject();

    public async Task<int> CountVisibleAsync(string queueUrl)
    {
        var attributes = await sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["ApproximateNumberOfMessages"] });
        return int.Parse(attributes.Attributes["ApproximateNumberOfMessages"], CultureInfo.InvariantCulture);
    }
}
