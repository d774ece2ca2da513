using System.Text.Json.Nodes;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// Reads progress tokens where MCP puts them: a request's <c>params._meta.progressToken</c> and a progress
/// notification's <c>params.progressToken</c>. A token is keyed by its JSON text, so that the number 1 and the string
/// "1" stay different tokens.
/// </summary>
internal static class ProgressTokens
{
    /// <summary>The key of the progress token a request's params carry; <see langword="null"/> without one.</summary>
    public static string? OfRequest(JsonNode? parameters) =>
        parameters is JsonObject o && o["_meta"] is JsonObject meta && meta["progressToken"] is JsonValue token ? token.ToJsonString() : null;

    /// <summary>The key of the progress token a progress notification's params name; <see langword="null"/> without one.</summary>
    public static string? OfNotification(JsonNode? parameters) =>
        parameters is JsonObject o && o["progressToken"] is JsonValue token ? token.ToJsonString() : null;
}
