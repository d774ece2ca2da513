namespace AsyncMcp.Wire;

/// <summary>
/// Names and fixed values of the metadata that travels beside every JSON-RPC payload, as asyncmcp defines them.
/// </summary>
/// <remarks>
/// Queue transports carry these as message attributes; every attribute is a string except
/// <see cref="Timestamp"/>, which is a number. The names are part of the wire format shared with the
/// Python asyncmcp implementation and must not change.
/// </remarks>
internal static class WireAttributes
{
    /// <summary>Always <see cref="JsonRpcMessageType"/>.</summary>
    public const string MessageType = "MessageType";

    /// <summary>Unix time in whole seconds at which the message was sent (a number attribute).</summary>
    public const string Timestamp = "Timestamp";

    /// <summary>The JSON-RPC id of a request, as a string.</summary>
    public const string RequestId = "RequestId";

    /// <summary>The JSON-RPC method of a request or notification.</summary>
    public const string Method = "Method";

    /// <summary>The server-minted session id, once known.</summary>
    public const string SessionId = "SessionId";

    /// <summary>The sending client's id. AsyncMcp servers echo it on every reply so that clients can share a reply queue.</summary>
    public const string ClientId = "ClientId";

    /// <summary>The MCP protocol revision the client speaks, once known.</summary>
    public const string ProtocolVersion = "ProtocolVersion";

    /// <summary>The value of <see cref="MessageType"/> on every message.</summary>
    public const string JsonRpcMessageType = "jsonrpc";

    /// <summary>The names AsyncMcp itself sets; user-supplied extra attributes may not use them.</summary>
    public static IReadOnlyCollection<string> Reserved { get; } =
        [MessageType, Timestamp, RequestId, Method, SessionId, ClientId, ProtocolVersion];
}
