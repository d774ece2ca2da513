using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>Writes and reads the <see cref="WireMethods.SessionCloseDeclaration"/> of an <c>initialize</c> answer.</summary>
internal static class SessionCloseSupport
{
    /// <summary>Marks an <c>initialize</c> answer as coming from a server that understands the session-close notification.</summary>
    public static void Declare(JsonRpcResponse response)
    {
        if (response.Result is not JsonObject result)
        {
            return;
        }

        if (result["_meta"] is not JsonObject meta)
        {
            meta = [];
            result["_meta"] = meta;
        }

        meta[WireMethods.SessionCloseDeclaration] = true;
    }

    /// <summary>Whether an <c>initialize</c> answer declares that its server understands the session-close notification.</summary>
    public static bool IsDeclared(JsonRpcResponse response) =>
        response.Result is JsonObject result &&
        result["_meta"] is JsonObject meta &&
        meta[WireMethods.SessionCloseDeclaration] is JsonValue value &&
        value.TryGetValue<bool>(out var declared) &&
        declared;
}
