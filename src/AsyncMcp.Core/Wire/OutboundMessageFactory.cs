using System.Globalization;
using AsyncMcp.Messaging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>Serializes a JSON-RPC message and gives it the wire attributes both sides send.</summary>
internal static class OutboundMessageFactory
{
    /// <summary>Creates the outbound form of a message.</summary>
    /// <param name="message">The JSON-RPC message.</param>
    /// <param name="now">The send time, for <see cref="WireAttributes.Timestamp"/>.</param>
    /// <param name="sessionId">The session id, if one is known.</param>
    /// <param name="clientId">The client id, if one is known.</param>
    /// <param name="protocolVersion">The protocol revision, if it should be declared.</param>
    /// <param name="orderingKey">The key within which the broker keeps order.</param>
    /// <param name="extraAttributes">User-supplied attributes; the wire attributes take precedence.</param>
    /// <returns>The body and attributes to send.</returns>
    public static OutboundMessage Create(
        JsonRpcMessage message,
        DateTimeOffset now,
        string? sessionId,
        string? clientId,
        string? protocolVersion = null,
        string? orderingKey = null,
        IEnumerable<KeyValuePair<string, string>>? extraAttributes = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var attributes = new Dictionary<string, string>(8, StringComparer.Ordinal);
        if (extraAttributes is not null)
        {
            foreach (var extra in extraAttributes)
            {
                attributes[extra.Key] = extra.Value;
            }
        }

        attributes[WireAttributes.MessageType] = WireAttributes.JsonRpcMessageType;
        attributes[WireAttributes.Timestamp] = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        SetIfPresent(attributes, WireAttributes.SessionId, sessionId);
        SetIfPresent(attributes, WireAttributes.ClientId, clientId);
        SetIfPresent(attributes, WireAttributes.ProtocolVersion, protocolVersion);
        var kind = OutboundKind.Answer;
        RequestId? answered = null;
        switch (message)
        {
            case JsonRpcRequest request:
                attributes[WireAttributes.RequestId] = request.Id.ToString();
                attributes[WireAttributes.Method] = request.Method;
                kind = OutboundKind.Request;
                break;
            case JsonRpcNotification notification:
                attributes[WireAttributes.Method] = notification.Method;
                kind = OutboundKind.Notification;
                break;
            case JsonRpcMessageWithId withId:
                answered = withId.Id;
                break;
        }

        return new OutboundMessage(JsonRpcCodec.Serialize(message), attributes, orderingKey) { Kind = kind, AnsweredId = answered };
    }

    private static void SetIfPresent(Dictionary<string, string> attributes, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            attributes[name] = value;
        }
    }
}
