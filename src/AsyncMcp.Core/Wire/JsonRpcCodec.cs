using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>
/// Turns message bodies into JSON-RPC messages and back, telling malformed JSON apart from JSON that is not
/// a JSON-RPC message so that each gets the right error.
/// </summary>
internal static class JsonRpcCodec
{
    private static readonly JsonTypeInfo<JsonRpcMessage> s_messageType =
        (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

    /// <summary>Serializes one message to its JSON text.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(JsonRpcMessage message) => JsonSerializer.Serialize(message, s_messageType);

    /// <summary>Parses one message body.</summary>
    /// <param name="body">The body as received.</param>
    /// <returns>The outcome: a message, or the reason there is none and whatever id could be read.</returns>
    public static DecodeResult Decode(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return DecodeResult.Failed(McpErrorCode.ParseError, "The message body is empty; expected one JSON-RPC 2.0 message.", default);
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            return DecodeResult.Failed(McpErrorCode.ParseError, $"The message body is not valid JSON: {ex.Message}", default);
        }

        if (node is JsonArray)
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "JSON-RPC batches are not supported; send one message per queue message.", default);
        }

        if (node is not JsonObject obj)
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "The message body must be a JSON-RPC 2.0 object.", default);
        }

        var id = ReadId(obj);
        if (obj["jsonrpc"] is not JsonValue version || !version.TryGetValue<string>(out var versionText) || versionText != "2.0")
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "The message is not JSON-RPC 2.0: \"jsonrpc\" must be \"2.0\".", id);
        }

        if (!obj.ContainsKey("method") && !obj.ContainsKey("result") && !obj.ContainsKey("error"))
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "The message is neither a request, a notification nor a response: it has no \"method\", \"result\" or \"error\".", id);
        }

        try
        {
            var message = obj.Deserialize(s_messageType);
            return message is null
                ? DecodeResult.Failed(McpErrorCode.InvalidRequest, "The message is not a JSON-RPC 2.0 message.", id)
                : DecodeResult.Succeeded(message);
        }
        catch (JsonException ex)
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, $"The message is not a valid JSON-RPC 2.0 message: {ex.Message}", id);
        }
    }

    private static RequestId ReadId(JsonObject obj)
    {
        if (obj["id"] is JsonValue value)
        {
            if (value.TryGetValue<string>(out var text))
            {
                return new RequestId(text);
            }

            if (value.TryGetValue<long>(out var number))
            {
                return new RequestId(number);
            }
        }

        return default;
    }
}

/// <summary>The outcome of <see cref="JsonRpcCodec.Decode(string?)"/>.</summary>
internal readonly record struct DecodeResult
{
    /// <summary>The message, when the body was one.</summary>
    public JsonRpcMessage? Message { get; private init; }

    /// <summary>The JSON-RPC error code that describes the failure, when there is no message.</summary>
    public McpErrorCode ErrorCode { get; private init; }

    /// <summary>What was wrong with the body.</summary>
    public string? Error { get; private init; }

    /// <summary>The id read from a body that was JSON but not a valid message; <c>default</c> (JSON <c>null</c>) otherwise.</summary>
    public RequestId Id { get; private init; }

    /// <summary>Whether a message was read.</summary>
    public bool IsSuccess => Message is not null;

    internal static DecodeResult Succeeded(JsonRpcMessage message) => new() { Message = message };

    internal static DecodeResult Failed(McpErrorCode code, string error, RequestId id) => new() { ErrorCode = code, Error = error, Id = id };
}
