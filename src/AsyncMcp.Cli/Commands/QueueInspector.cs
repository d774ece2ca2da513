using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Cli.Commands;

/// <summary>What one queue holds now, as <c>asyncmcp status</c> shows it.</summary>
internal sealed record QueueStatus(
    string Name,
    string Url,
    string Role,
    int Visible,
    int InFlight,
    int Delayed,
    string? DeadLetterQueueUrl,
    int? DeadLetterDepth,
    double? OldestDeadLetterAgeSeconds);

/// <summary>One message on a dead-letter queue, as <c>asyncmcp dlq list</c> shows it.</summary>
internal sealed record DeadLetter(
    string MessageId,
    string ReceiptHandle,
    string? Method,
    string? RequestId,
    string? SessionId,
    int ReceiveCount,
    DateTimeOffset? FirstReceived,
    DateTimeOffset? Sent,
    string Body,
    Dictionary<string, MessageAttributeValue>? Attributes);

/// <summary>
/// Reads queues without disturbing them: counts from the queue's attributes; a dead-letter queue's messages are looked
/// at (never a live queue's, whose receive counts feed its redrive policy), and moved back to their source queue.
/// </summary>
internal sealed class QueueInspector(IAmazonSQS sqs)
{
    private static readonly TimeSpan s_hold = TimeSpan.FromSeconds(30);

    /// <summary>A queue's URL: as given, or looked up by name (never created: status and dlq only read).</summary>
    public async Task<string> ResolveAsync(string urlOrName, string optionName, CancellationToken cancellationToken)
    {
        if (TransportSettings.IsUrl(urlOrName))
        {
            return urlOrName;
        }

        try
        {
            return (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = urlOrName }, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        catch (QueueDoesNotExistException ex)
        {
            throw new CliFailureException($"{optionName} '{urlOrName}' does not exist.", ex);
        }
    }

    public async Task<QueueStatus> StatusAsync(string url, string role, CancellationToken cancellationToken)
    {
        var attributes = await AttributesAsync(url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed", "RedrivePolicy"], cancellationToken).ConfigureAwait(false);
        string? deadLetterUrl = null;
        int? depth = null;
        double? oldest = null;
        if (RedrivePolicy.Read(attributes) is { } redrive)
        {
            deadLetterUrl = await DeadLetterQueueUrlAsync(redrive, cancellationToken).ConfigureAwait(false);
            if (deadLetterUrl is not null)
            {
                var dead = await AttributesAsync(deadLetterUrl, ["ApproximateNumberOfMessages"], cancellationToken).ConfigureAwait(false);
                depth = Count(dead, "ApproximateNumberOfMessages");
                oldest = depth > 0 ? await OldestAgeAsync(deadLetterUrl, cancellationToken).ConfigureAwait(false) : null;
            }
        }

        return new QueueStatus(
            url[(url.LastIndexOf('/') + 1)..],
            url,
            role,
            Count(attributes, "ApproximateNumberOfMessages"),
            Count(attributes, "ApproximateNumberOfMessagesNotVisible"),
            Count(attributes, "ApproximateNumberOfMessagesDelayed"),
            deadLetterUrl,
            depth,
            oldest);
    }

    /// <summary>The dead-letter queue of a source queue.</summary>
    public async Task<string> DeadLetterQueueOfAsync(string sourceUrl, string optionName, CancellationToken cancellationToken)
    {
        var attributes = await AttributesAsync(sourceUrl, ["RedrivePolicy"], cancellationToken).ConfigureAwait(false);
        return RedrivePolicy.Read(attributes) is { } redrive && await DeadLetterQueueUrlAsync(redrive, cancellationToken).ConfigureAwait(false) is { } url
            ? url
            : throw new CliFailureException($"{optionName} '{sourceUrl}' has no dead-letter queue (no redrive policy): create its queues with asyncmcp provision --max-receive-count.");
    }

    /// <summary>
    /// Every message on a dead-letter queue (up to <paramref name="max"/>), each held invisible while it is read and then
    /// handed back unless <paramref name="keep"/> keeps it taken (to move it).
    /// </summary>
    public async Task<List<DeadLetter>> ReadDeadLettersAsync(string deadLetterUrl, int max, Func<DeadLetter, bool> keep, CancellationToken cancellationToken)
    {
        var all = new List<DeadLetter>();
        var release = new List<DeadLetter>();
        try
        {
            while (all.Count < max)
            {
                var response = await sqs.ReceiveMessageAsync(
                    new ReceiveMessageRequest
                    {
                        QueueUrl = deadLetterUrl,
                        MaxNumberOfMessages = Math.Min(10, max - all.Count),
                        WaitTimeSeconds = 1,
                        VisibilityTimeout = (int)s_hold.TotalSeconds,
                        MessageAttributeNames = ["All"],
                        MessageSystemAttributeNames = ["All"],
                    },
                    cancellationToken).ConfigureAwait(false);
                if (response.Messages is not { Count: > 0 } messages)
                {
                    break;
                }

                foreach (var message in messages)
                {
                    var letter = Describe(message);
                    all.Add(letter);
                    if (!keep(letter))
                    {
                        release.Add(letter);
                    }
                }
            }
        }
        finally
        {
            foreach (var letter in release)
            {
                await sqs.ChangeMessageVisibilityAsync(deadLetterUrl, letter.ReceiptHandle, 0, CancellationToken.None).ConfigureAwait(false);
            }
        }

        return all;
    }

    /// <summary>Sends a dead letter back to its source queue as it was (body and attributes), then deletes it from the dead-letter queue.</summary>
    public async Task MoveBackAsync(string deadLetterUrl, string sourceUrl, DeadLetter letter, CancellationToken cancellationToken)
    {
        var send = new SendMessageRequest { QueueUrl = sourceUrl, MessageBody = letter.Body, MessageAttributes = letter.Attributes is { Count: > 0 } a ? a : null };
        if (sourceUrl.EndsWith(".fifo", StringComparison.Ordinal))
        {
            send.MessageGroupId = letter.SessionId ?? letter.MessageId;
            send.MessageDeduplicationId = "redrive-" + letter.MessageId;
        }

        await sqs.SendMessageAsync(send, cancellationToken).ConfigureAwait(false);
        await sqs.DeleteMessageAsync(deadLetterUrl, letter.ReceiptHandle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks SQS to move every message of the dead-letter queue back to its source (<c>StartMessageMoveTask</c>); returns the
    /// task handle, or <see langword="null"/> when the broker does not offer the API (an emulator, say).
    /// </summary>
    public async Task<string?> TryStartMoveTaskAsync(string deadLetterUrl, string sourceUrl, CancellationToken cancellationToken)
    {
        var deadArn = (await AttributesAsync(deadLetterUrl, ["QueueArn"], cancellationToken).ConfigureAwait(false))["QueueArn"];
        var sourceArn = (await AttributesAsync(sourceUrl, ["QueueArn"], cancellationToken).ConfigureAwait(false))["QueueArn"];
        try
        {
            var response = await sqs.StartMessageMoveTaskAsync(new StartMessageMoveTaskRequest { SourceArn = deadArn, DestinationArn = sourceArn }, cancellationToken).ConfigureAwait(false);
            return response.TaskHandle;
        }
        catch (AmazonSQSException ex) when (IsUnsupported(ex))
        {
            return null;
        }
    }

    private static bool IsUnsupported(AmazonSQSException ex) =>
        ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.NotImplemented ||
        ex.ErrorCode is "InvalidAction" or "UnsupportedOperation" or "UnknownOperation" or "AWS.SimpleQueueService.UnsupportedOperation" ||
        ex.Message.Contains("not supported", StringComparison.OrdinalIgnoreCase) ||
        ex.Message.Contains("unknown", StringComparison.OrdinalIgnoreCase);

    private async Task<double?> OldestAgeAsync(string deadLetterUrl, CancellationToken cancellationToken)
    {
        // A dead-letter queue has no redrive policy of its own, so looking (visibility 0: nothing is held) costs nothing.
        var response = await sqs.ReceiveMessageAsync(
            new ReceiveMessageRequest { QueueUrl = deadLetterUrl, MaxNumberOfMessages = 10, VisibilityTimeout = 0, MessageSystemAttributeNames = ["SentTimestamp"] },
            cancellationToken).ConfigureAwait(false);
        var sent = (response.Messages ?? []).Select(m => Timestamp(m.Attributes, "SentTimestamp")).Where(t => t is not null).Select(t => t!.Value).ToList();
        return sent.Count == 0 ? null : Math.Max(0, (DateTimeOffset.UtcNow - sent.Min()).TotalSeconds);
    }

    private async Task<string?> DeadLetterQueueUrlAsync(RedrivePolicy redrive, CancellationToken cancellationToken)
    {
        try
        {
            return (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = redrive.DeadLetterQueueName }, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        catch (QueueDoesNotExistException)
        {
            return null;
        }
    }

    private async Task<Dictionary<string, string>> AttributesAsync(string url, List<string> names, CancellationToken cancellationToken)
    {
        try
        {
            return (await sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = names }, cancellationToken).ConfigureAwait(false)).Attributes ?? [];
        }
        catch (QueueDoesNotExistException ex)
        {
            throw new CliFailureException($"The queue '{url}' does not exist.", ex);
        }
    }

    private static DeadLetter Describe(Message message)
    {
        var body = message.Body ?? string.Empty;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var payload = body;
        if (SnsEnvelope.TryUnwrap(body, out var unwrapped, out var envelopeAttributes))
        {
            payload = unwrapped;
            foreach (var pair in envelopeAttributes)
            {
                attributes[pair.Key] = pair.Value;
            }
        }

        foreach (var pair in message.MessageAttributes ?? [])
        {
            if (pair.Value.StringValue is { } value)
            {
                attributes[pair.Key] = value;
            }
        }

        string? method = attributes.GetValueOrDefault("Method");
        string? id = attributes.GetValueOrDefault("RequestId");
        try
        {
            if (JsonNode.Parse(payload) is JsonObject json)
            {
                method = json["method"] is JsonValue m && m.TryGetValue(out string? named) ? named : method;
                id = json["id"] is JsonValue i ? i.ToJsonString().Trim('"') : id;
            }
        }
        catch (JsonException)
        {
            // Not JSON (which may be why it is here): what its attributes say is all there is.
        }

        var system = message.Attributes ?? [];
        return new DeadLetter(
            message.MessageId ?? string.Empty,
            message.ReceiptHandle ?? string.Empty,
            method,
            id,
            attributes.GetValueOrDefault("SessionId"),
            system.TryGetValue("ApproximateReceiveCount", out var count) && int.TryParse(count, CultureInfo.InvariantCulture, out var n) ? n : 0,
            Timestamp(system, "ApproximateFirstReceiveTimestamp"),
            Timestamp(system, "SentTimestamp"),
            body,
            message.MessageAttributes);
    }

    private static DateTimeOffset? Timestamp(Dictionary<string, string>? attributes, string name) =>
        attributes is not null && attributes.TryGetValue(name, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var millis)
            ? DateTimeOffset.FromUnixTimeMilliseconds(millis)
            : null;

    private static int Count(Dictionary<string, string> attributes, string name) =>
        attributes.TryGetValue(name, out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
