using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>Reads request ids that messages refer to.</summary>
internal static class RequestIds
{
    /// <summary>The id a <c>notifications/cancelled</c> names, if it names a usable one.</summary>
    public static RequestId? FromCancellation(JsonRpcNotification notification) =>
        notification.Params is JsonObject parameters && parameters["requestId"] is JsonValue value
            ? value.TryGetValue<string>(out var text) ? new RequestId(text)
            : value.TryGetValue<long>(out var number) ? new RequestId(number)
            : null
            : null;
}
