using System.Text;
using System.Text.Json;

namespace AsyncMcp.AspNetCore.Webhooks;

/// <summary>
/// AsyncMcp's extension of asyncmcp's webhook wire: a delivery whose body is a JSON array carries several JSON-RPC
/// messages (answers of one session) in one POST. A client asks for it by the <see cref="QueryPart"/> query parameter
/// of the webhook URL it names; a server sends arrays only to such URLs, so asyncmcp's clients, which name plain
/// URLs, get one message per POST as before.
/// </summary>
internal static class WebhookBatches
{
    /// <summary>The query part (parameter and value) by which a webhook URL says it takes batched deliveries.</summary>
    public const string QueryPart = "asyncmcp-batch=1";

    /// <summary>Whether a webhook URL says it takes batched deliveries.</summary>
    public static bool AreAcceptedBy(string address)
    {
        var fragment = address.IndexOf('#', StringComparison.Ordinal);
        var url = fragment < 0 ? address.AsSpan() : address.AsSpan(0, fragment);
        var query = url.IndexOf('?');
        if (query < 0)
        {
            return false;
        }

        foreach (var part in url[(query + 1)..].Split('&'))
        {
            if (url[(query + 1)..][part].SequenceEqual(QueryPart))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a delivery's body is a batch (a JSON array), judged by its first non-blank byte.</summary>
    public static bool IsBatch(ReadOnlySpan<byte> body)
    {
        foreach (var b in body)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b == (byte)'[';
        }

        return false;
    }

    /// <summary>Joins JSON-RPC messages into one batch body.</summary>
    public static string Join(IEnumerable<string> bodies) => "[" + string.Join(',', bodies) + "]";

    /// <summary>
    /// Splits a batch body into the JSON text of each of its elements; <see langword="null"/>, with the reason, when the
    /// body is not a JSON array of objects or is empty.
    /// </summary>
    public static IReadOnlyList<string>? Split(ReadOnlySpan<byte> body, out string? problem)
    {
        var messages = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                problem = "the body is not a JSON array";
                return null;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    problem = $"element {messages.Count} of the batch is not a JSON object";
                    return null;
                }

                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                messages.Add(Encoding.UTF8.GetString(body[start..(int)reader.BytesConsumed]));
            }

            // Anything after the closing bracket makes the reader throw.
            reader.Read();
        }
        catch (JsonException ex)
        {
            problem = $"the batch is not valid JSON ({ex.Message})";
            return null;
        }

        if (messages.Count == 0)
        {
            problem = "the batch is empty";
            return null;
        }

        problem = null;
        return messages;
    }
}
