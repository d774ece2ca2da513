using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
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

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = JsonBodyScanner.MaxDepth, AllowDuplicateProperties = false };

    /// <summary>Serializes one message to its JSON text.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(JsonRpcMessage message) => JsonSerializer.Serialize(message, s_messageType);

    /// <summary>Parses one message body.</summary>
    /// <param name="body">The body as received.</param>
    /// <returns>The outcome: a message, or the reason there is none and whatever id could be read. Never throws.</returns>
    /// <remarks>
    /// The whole body is checked before a message is built from it, so that nothing System.Text.Json refuses only when
    /// a value is first read (an unpaired surrogate escape, a member named twice, nesting deeper than 64 levels) can
    /// fail later, in a handler, where no error reaches the sender.
    /// </remarks>
    public static DecodeResult Decode(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return Empty;
        }

        int length;
        try
        {
            length = s_strictUtf8.GetByteCount(body);
        }
        catch (EncoderFallbackException)
        {
            return DecodeResult.Failed(McpErrorCode.ParseError, "The message body is not valid JSON: it holds an unpaired UTF-16 surrogate character.", default);
        }

        // Nothing decoded keeps a reference to these bytes (the message's values are copies), so they are pooled.
        var utf8 = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            return DecodeUtf8(utf8.AsMemory(0, s_strictUtf8.GetBytes(body, utf8)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>Parses one message body given as UTF-8 bytes (an HTTP body, for example).</summary>
    /// <param name="utf8Body">The body as received.</param>
    /// <returns>The outcome, as for <see cref="Decode(string?)"/>; bytes that are not UTF-8 are a parse error. Never throws.</returns>
    public static DecodeResult Decode(ReadOnlySpan<byte> utf8Body)
    {
        if (!Utf8.IsValid(utf8Body))
        {
            return DecodeResult.Failed(McpErrorCode.ParseError, "The message body is not valid JSON: it is not UTF-8 text.", default);
        }

        if (utf8Body.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Empty;
        }

        var copy = ArrayPool<byte>.Shared.Rent(utf8Body.Length);
        try
        {
            utf8Body.CopyTo(copy);
            return DecodeUtf8(copy.AsMemory(0, utf8Body.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static DecodeResult Empty => DecodeResult.Failed(McpErrorCode.ParseError, "The message body is empty; expected one JSON-RPC 2.0 message.", default);

    private static DecodeResult DecodeUtf8(ReadOnlyMemory<byte> utf8)
    {
        var facts = JsonBodyScanner.Scan(utf8.Span);
        if (facts.SyntaxError is { } syntaxError)
        {
            return DecodeResult.Failed(McpErrorCode.ParseError, $"The message body is not valid JSON: {syntaxError}", default);
        }

        if (facts.RootKind == JsonTokenType.StartArray)
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "JSON-RPC batches are not supported; send one message per queue message.", default);
        }

        if (facts.RootKind != JsonTokenType.StartObject)
        {
            return DecodeResult.Failed(McpErrorCode.InvalidRequest, "The message body must be a JSON-RPC 2.0 object.", default);
        }

        var id = facts.IdState == IdState.Usable ? facts.Id : default;
        if (facts.Problem is { } problem)
        {
            return Invalid($"The message cannot be read: {problem}.", id, facts);
        }

        if (facts.JsonRpc != "2.0")
        {
            return Invalid("The message is not JSON-RPC 2.0: \"jsonrpc\" must be \"2.0\".", id, facts);
        }

        if (facts.IdState == IdState.Unusable)
        {
            return Invalid($"The message is not a valid JSON-RPC 2.0 message: \"id\" must be a string or an integer (was {facts.IdKind}).", id, facts);
        }

        if (facts.HasMethod && facts.MethodKind != JsonTokenType.String)
        {
            return Invalid("The message is not a valid JSON-RPC 2.0 message: \"method\" must be a string.", id, facts);
        }

        if (!facts.HasMethod && !facts.HasResult && !facts.HasError)
        {
            return Invalid("The message is neither a request, a notification nor a response: it has no \"method\", \"result\" or \"error\".", id, facts);
        }

        try
        {
            // Members named twice deeper down are refused here, while parsing, rather than when a handler reads them
            // (the document is only checked, then returned to the pool); the message is then read from the bytes.
            JsonDocument.Parse(utf8, s_documentOptions).Dispose();

            var message = JsonSerializer.Deserialize(utf8.Span, s_messageType);
            return message is null
                ? Invalid("The message is not a JSON-RPC 2.0 message.", id, facts)
                : DecodeResult.Succeeded(message);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException or NotSupportedException)
        {
            return Invalid($"The message is not a valid JSON-RPC 2.0 message: {ex.Message}", id, facts);
        }
    }

    private static DecodeResult Invalid(string error, RequestId id, JsonBodyFacts facts) =>
        DecodeResult.Failed(McpErrorCode.InvalidRequest, error, id, facts.Parameters);
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

    /// <summary>
    /// The readable string members of <c>params</c> and <c>params._meta</c> of a body that was a JSON object but not a
    /// valid message, so that an error can still reach a reply address it names; <see langword="null"/> otherwise.
    /// </summary>
    internal JsonObject? Parameters { get; private init; }

    /// <summary>Whether a message was read.</summary>
    public bool IsSuccess => Message is not null;

    internal static DecodeResult Succeeded(JsonRpcMessage message) => new() { Message = message };

    internal static DecodeResult Failed(McpErrorCode code, string error, RequestId id, JsonObject? parameters = null) =>
        new() { ErrorCode = code, Error = error, Id = id, Parameters = parameters };
}
