using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>Writes and reads the <see cref="WireMethods.SessionAddress"/> of an <c>initialize</c> answer.</summary>
internal static class SessionAddresses
{
    /// <summary>Names, in an <c>initialize</c> answer's <c>_meta</c>, the address that reaches the worker holding the session.</summary>
    public static void Write(JsonObject initializeResultMeta, string address) => initializeResultMeta[WireMethods.SessionAddress] = address;

    /// <summary>The address that reaches the worker holding the session, if the <c>initialize</c> answer names one.</summary>
    public static string? Read(JsonRpcResponse response) =>
        response.Result is JsonObject result &&
        result["_meta"] is JsonObject meta &&
        meta[WireMethods.SessionAddress] is JsonValue value &&
        value.TryGetValue<string>(out var address) &&
        !string.IsNullOrWhiteSpace(address) ? address : null;
}
