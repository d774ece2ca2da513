using AsyncMcp.Wire;
using Microsoft.AspNetCore.Http;

namespace AsyncMcp.AspNetCore.Webhooks;

/// <summary>
/// The HTTP headers of asyncmcp's webhook transport, and how they map to the wire attributes that queue transports
/// carry as message attributes.
/// </summary>
internal static class WebhookHeaders
{
    /// <summary>The sending client's id; a server answers 400 without it.</summary>
    public const string ClientId = "X-Client-ID";

    /// <summary>The server-minted session id, once known.</summary>
    public const string SessionId = "X-Session-ID";

    /// <summary>The JSON-RPC id of a request.</summary>
    public const string RequestId = "X-Request-ID";

    /// <summary>The JSON-RPC method of a request or notification.</summary>
    public const string Method = "X-Method";

    /// <summary>The protocol revision the client speaks, once known.</summary>
    public const string ProtocolVersion = "X-Protocol-Version";

    private static readonly (string Header, string Attribute)[] s_map =
    [
        (ClientId, WireAttributes.ClientId),
        (SessionId, WireAttributes.SessionId),
        (RequestId, WireAttributes.RequestId),
        (Method, WireAttributes.Method),
        (ProtocolVersion, WireAttributes.ProtocolVersion),
    ];

    /// <summary>Sets the headers that correspond to a message's wire attributes.</summary>
    /// <param name="attributes">The wire attributes.</param>
    /// <param name="set">Sets one header.</param>
    internal static void Write(IReadOnlyDictionary<string, string> attributes, Action<string, string> set)
    {
        foreach (var (header, attribute) in s_map)
        {
            if (attributes.TryGetValue(attribute, out var value) && !string.IsNullOrEmpty(value))
            {
                set(header, value);
            }
        }
    }

    /// <summary>
    /// The request id the <see cref="RequestId"/> header names (a number when it reads as one), for errors about a body
    /// that cannot be read or was never read; <c>default</c> (JSON <c>null</c>) without the header.
    /// </summary>
    /// <param name="headers">The request headers.</param>
    /// <returns>The id, or <c>default</c>.</returns>
    internal static ModelContextProtocol.Protocol.RequestId ReadRequestId(IHeaderDictionary headers)
    {
        var text = headers[RequestId].ToString();
        if (text.Length == 0)
        {
            return default;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? new ModelContextProtocol.Protocol.RequestId(number)
            : new ModelContextProtocol.Protocol.RequestId(text);
    }

    /// <summary>Reads the wire attributes from a request's headers.</summary>
    /// <param name="headers">The request headers.</param>
    /// <returns>The attributes present.</returns>
    internal static Dictionary<string, string> Read(IHeaderDictionary headers)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (header, attribute) in s_map)
        {
            var value = headers[header].ToString();
            if (!string.IsNullOrEmpty(value))
            {
                attributes[attribute] = value;
            }
        }

        // The Streamable HTTP header names, for peers that send those.
        if (!attributes.ContainsKey(WireAttributes.SessionId) && headers["Mcp-Session-Id"].ToString() is { Length: > 0 } mcpSession)
        {
            attributes[WireAttributes.SessionId] = mcpSession;
        }

        if (!attributes.ContainsKey(WireAttributes.ProtocolVersion) && headers["MCP-Protocol-Version"].ToString() is { Length: > 0 } mcpVersion)
        {
            attributes[WireAttributes.ProtocolVersion] = mcpVersion;
        }

        return attributes;
    }
}
