using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>
/// Writes and reads the <see cref="WireMethods.SessionCloseDeclaration"/>: in an <c>initialize</c> answer (the server
/// understands a client's close), and in an <c>initialize</c> request's <c>_meta</c> (the client understands the
/// server's notice that it closed the session).
/// </summary>
internal static class SessionCloseSupport
{
    /// <summary>Marks an <c>initialize</c> request as coming from a client that understands the server's session-close notice.</summary>
    public static void Declare(JsonRpcRequest request)
    {
        if (request.Params is not JsonObject parameters)
        {
            return;
        }

        if (parameters["_meta"] is not JsonObject meta)
        {
            meta = [];
            parameters["_meta"] = meta;
        }

        meta[WireMethods.SessionCloseDeclaration] = true;
    }

    /// <summary>Whether an <c>initialize</c> request declares that its client understands the server's session-close notice.</summary>
    public static bool IsDeclared(JsonRpcRequest request) =>
        request.Params is JsonObject parameters && IsDeclared(parameters["_meta"]);

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
        response.Result is JsonObject result && IsDeclared(result["_meta"]);

    private static bool IsDeclared(JsonNode? meta) =>
        meta is JsonObject metaObject &&
        metaObject[WireMethods.SessionCloseDeclaration] is JsonValue value &&
        value.TryGetValue<bool>(out var declared) &&
        declared;
}
