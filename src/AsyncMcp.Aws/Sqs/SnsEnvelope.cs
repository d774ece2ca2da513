using System.Text.Json;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Unwraps the JSON envelope SNS puts around a message delivered to an SQS queue without raw message delivery:
/// the payload is the envelope's <c>Message</c>, and its attributes are in <c>MessageAttributes</c>.
/// </summary>
internal static class SnsEnvelope
{
    /// <summary>Returns the payload and envelope attributes if <paramref name="body"/> is an SNS notification envelope.</summary>
    public static bool TryUnwrap(string body, out string message, out Dictionary<string, string> attributes)
    {
        message = body;
        attributes = [];

        // Cheap test first: a JSON-RPC payload never needs to be parsed twice.
        if (body.Length == 0 || body[0] != '{' || !body.Contains("\"Notification\"", StringComparison.Ordinal) || !body.Contains("\"Message\"", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                root.TryGetProperty("jsonrpc", out _) ||
                !root.TryGetProperty("Type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "Notification" ||
                !root.TryGetProperty("Message", out var payload) || payload.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            message = payload.GetString()!;
            if (root.TryGetProperty("MessageAttributes", out var envelopeAttributes) && envelopeAttributes.ValueKind == JsonValueKind.Object)
            {
                foreach (var attribute in envelopeAttributes.EnumerateObject())
                {
                    if (attribute.Value.ValueKind == JsonValueKind.Object &&
                        attribute.Value.TryGetProperty("Value", out var value))
                    {
                        attributes[attribute.Name] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                    }
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string in it that is not text (an unpaired surrogate escape): not an envelope this can
            // unwrap, so the body is handed on as it came and refused as not being a JSON-RPC message.
            message = body;
            attributes = [];
            return false;
        }
    }
}
