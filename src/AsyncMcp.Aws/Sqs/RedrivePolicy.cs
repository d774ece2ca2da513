using System.Text.Json;

namespace AsyncMcp.Aws.Sqs;

/// <summary>A queue's <c>RedrivePolicy</c> attribute: where its dead letters go, and after how many receives.</summary>
internal sealed record RedrivePolicy(string DeadLetterTargetArn, int? MaxReceiveCount)
{
    /// <summary>The queue's redrive policy, or <see langword="null"/> when it has none (or one that cannot be read).</summary>
    public static RedrivePolicy? Read(IReadOnlyDictionary<string, string> attributes) =>
        attributes.TryGetValue("RedrivePolicy", out var text) ? Parse(text) : null;

    /// <summary>Parses the JSON of a <c>RedrivePolicy</c> attribute; <c>maxReceiveCount</c> may be a number or a string.</summary>
    public static RedrivePolicy? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("deadLetterTargetArn", out var arn) || arn.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            int? max = null;
            if (root.TryGetProperty("maxReceiveCount", out var count))
            {
                if (count.ValueKind == JsonValueKind.Number && count.TryGetInt32(out var number))
                {
                    max = number;
                }
                else if (count.ValueKind == JsonValueKind.String && int.TryParse(count.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                {
                    max = parsed;
                }
            }

            return new RedrivePolicy(arn.GetString()!, max);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The dead-letter queue's name: the last part of its ARN.</summary>
    public string DeadLetterQueueName => DeadLetterTargetArn[(DeadLetterTargetArn.LastIndexOf(':') + 1)..];
}
