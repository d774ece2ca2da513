using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>
/// Builds the JSON-RPC errors AsyncMcp sends for bad input. Codes are the standard negative JSON-RPC codes;
/// <c>error.data.reason</c> carries one of the <see cref="ErrorReasons"/> so that programs can tell the cases apart.
/// </summary>
public static class JsonRpcErrors
{
    /// <summary>Creates an error response.</summary>
    /// <param name="id">The id of the request, or <c>default</c> (JSON <c>null</c>) when it is unknown.</param>
    /// <param name="code">The JSON-RPC error code.</param>
    /// <param name="message">A message a person can act on.</param>
    /// <param name="reason">A stable machine-readable reason, one of <see cref="ErrorReasons"/>.</param>
    /// <returns>The error message.</returns>
    public static JsonRpcError Create(RequestId id, McpErrorCode code, string message, string reason) => new()
    {
        Id = id,
        Error = new JsonRpcErrorDetail
        {
            Code = (int)code,
            Message = message,
            Data = new JsonObject { ["reason"] = reason },
        },
    };

    /// <summary>
    /// <c>-32022</c> for a request of a revision this server does not take, with the data the protocol gives it
    /// (<c>supported</c>, <c>requested</c>), so that a client can take a revision from the list and try again, and the
    /// <c>reason</c> every AsyncMcp error carries.
    /// </summary>
    /// <param name="id">The id of the request refused.</param>
    /// <param name="requested">The revision it asked for.</param>
    /// <param name="supported">The revisions this server takes.</param>
    /// <returns>The error.</returns>
    internal static JsonRpcError UnsupportedProtocolVersion(RequestId id, string requested, IReadOnlyCollection<string> supported) => new()
    {
        Id = id,
        Error = new JsonRpcErrorDetail
        {
            Code = (int)McpErrorCode.UnsupportedProtocolVersion,
            Message = $"Protocol version '{requested}' is not supported; this server supports {string.Join(", ", supported)}.",
            Data = UnsupportedProtocolVersionData(requested, supported),
        },
    };

    private static JsonObject UnsupportedProtocolVersionData(string requested, IReadOnlyCollection<string> supported)
    {
        // The SDK's own type names the members its client reads; the reason is added beside them.
        var data = (JsonObject)JsonSerializer.SerializeToNode(
            new UnsupportedProtocolVersionErrorData { Supported = [.. supported], Requested = requested },
            McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(UnsupportedProtocolVersionErrorData)))!;
        data["reason"] = ErrorReasons.UnsupportedProtocolVersion;
        return data;
    }

    /// <summary>The short error that replaces an answer too large for its destination, so that the call fails clearly instead of waiting.</summary>
    /// <param name="id">The id of the request the answer was for.</param>
    /// <param name="tooLarge">What the destination refused.</param>
    /// <param name="destination">What accepts less, for the message: "the transport can carry", say.</param>
    /// <returns>The error.</returns>
    internal static JsonRpcError ResponseTooLarge(RequestId id, Messaging.MessageTooLargeException tooLarge, string destination) =>
        Create(
            id,
            McpErrorCode.InternalError,
            $"The response is {tooLarge.ActualBytes} bytes, more than {(tooLarge.MaxBytes > 0 ? $"the {tooLarge.MaxBytes} bytes" : "what")} {destination}.",
            ErrorReasons.PayloadTooLarge);

    /// <summary>Reads <c>error.data.reason</c> from an error, if it has one.</summary>
    /// <param name="error">The error.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public static string? ReadReason(JsonRpcError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Error.Data switch
        {
            JsonObject obj when obj["reason"] is JsonValue v && v.TryGetValue<string>(out var r) => r,
            System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Object } element
                when element.TryGetProperty("reason", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String => r.GetString(),
            _ => null,
        };
    }
}

/// <summary>Values of <c>error.data.reason</c> in errors produced by AsyncMcp transports.</summary>
public static class ErrorReasons
{
    /// <summary>The body was not valid JSON.</summary>
    public const string ParseError = "parse_error";

    /// <summary>The body was JSON but not a single JSON-RPC 2.0 message.</summary>
    public const string InvalidMessage = "invalid_message";

    /// <summary>The message named a session the server does not have (never created, closed or expired).</summary>
    public const string SessionNotFound = "session_not_found";

    /// <summary>A request that needs a reply address named none.</summary>
    public const string MissingReplyAddress = "missing_reply_address";

    /// <summary>The server has as many sessions as it is configured to allow.</summary>
    public const string SessionLimitReached = "session_limit_reached";

    /// <summary>The message declared a protocol revision the server does not speak.</summary>
    public const string UnsupportedProtocolVersion = "unsupported_protocol_version";

    /// <summary>The answer was larger than the transport can carry.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>The transport could not deliver a message.</summary>
    public const string DeliveryFailed = "delivery_failed";

    /// <summary>The server that held the session went away.</summary>
    public const string SessionLost = "session_lost";

    /// <summary>The message was not signed, or its signature, timestamp or secret did not check out.</summary>
    public const string BadSignature = "bad_signature";

    /// <summary>The reply address is not allowed by the server's reply-address policy.</summary>
    public const string ReplyAddressRefused = "reply_address_refused";

    /// <summary>The message lacked something the transport requires (a header such as <c>X-Client-ID</c>, for example).</summary>
    public const string MissingHeader = "missing_header";

    /// <summary>The message was sent with a content type other than <c>application/json</c>.</summary>
    public const string UnsupportedContentType = "unsupported_content_type";

    /// <summary>The server has as many requests in flight as it is configured to take; try again shortly.</summary>
    public const string ServerBusy = "server_busy";

    /// <summary>The server stopped (or the session closed) before it answered the request.</summary>
    public const string NotAnswered = "not_answered";

    /// <summary>The server is stopping: it takes no new sessions or requests, and its sessions are closing.</summary>
    public const string ServerStopping = "server_stopping";

    /// <summary>The server accepted the request, but its result did not arrive within the time the client waits for it.</summary>
    public const string ResultTimeout = "result_timeout";
}
