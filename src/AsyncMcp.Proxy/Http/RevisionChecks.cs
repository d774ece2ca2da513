using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Server;
using AsyncMcp.Tasks;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Http;

/// <summary>
/// The HTTP-level checks the SDK's Streamable HTTP endpoint makes of the protocol revision a POST declares, made here
/// the same way because the headers they look at do not travel over the async transport: the
/// <c>MCP-Protocol-Version</c> header against the known revisions and against the body, and, for the per-request-metadata
/// revisions (2026-07-28), the required <c>_meta</c> fields, the <c>Mcp-Method</c>/<c>Mcp-Name</c> headers and the
/// methods those revisions removed.
/// </summary>
internal static class RevisionChecks
{
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";
    public const string MethodHeader = "Mcp-Method";
    public const string NameHeader = "Mcp-Name";
    private const string FirstPerRequestRevision = "2026-07-28";
    private const string ProtocolVersionKey = "io.modelcontextprotocol/protocolVersion";
    private const string ClientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";

    // "logging/setLevel" by its text: the SDK marks the constant obsolete along with the method.
    private static readonly string[] s_removedMethods =
        [RequestMethods.Initialize, RequestMethods.Ping, "logging/setLevel", RequestMethods.ResourcesSubscribe, RequestMethods.ResourcesUnsubscribe];

    /// <summary>Whether a revision has no sessions and carries its metadata in each request (2026-07-28 and later).</summary>
    public static bool IsPerRequest(string? version) =>
        !string.IsNullOrEmpty(version) && string.CompareOrdinal(version, FirstPerRequestRevision) >= 0;

    /// <summary>An unknown <c>MCP-Protocol-Version</c> header: <c>-32022</c> naming the revisions known here, or <see langword="null"/>.</summary>
    public static JsonRpcErrorDetail? CheckVersionHeader(string version)
    {
        if (string.IsNullOrEmpty(version) || AsyncMcpServerTransportOptions.DefaultSupportedProtocolVersions.Contains(version))
        {
            return null;
        }

        return new JsonRpcErrorDetail
        {
            Code = (int)McpErrorCode.UnsupportedProtocolVersion,
            Message = $"Bad Request: The {ProtocolVersionHeader} header value '{version}' is not supported.",
            Data = JsonSerializer.SerializeToNode(
                new UnsupportedProtocolVersionErrorData { Supported = [.. AsyncMcpServerTransportOptions.DefaultSupportedProtocolVersions], Requested = version },
                McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(UnsupportedProtocolVersionErrorData))),
        };
    }

    /// <summary>
    /// The header against the body: an <c>initialize</c> must ask for the header's revision, and a request of a
    /// per-request revision must name the same one in <c>_meta</c> (<c>-32020</c> on a mismatch, <c>-32602</c> when absent).
    /// </summary>
    public static JsonRpcErrorDetail? CheckEnvelope(string version, JsonRpcMessage message)
    {
        if (message is JsonRpcRequest { Method: RequestMethods.Initialize, Params: JsonObject init } &&
            init["protocolVersion"] is JsonValue asked && asked.TryGetValue<string>(out var askedVersion) &&
            !string.IsNullOrEmpty(version) && !string.Equals(version, askedVersion, StringComparison.Ordinal))
        {
            return Mismatch($"Bad Request: The {ProtocolVersionHeader} header value '{version}' does not match body params.protocolVersion value '{askedVersion}'.");
        }

        if (!IsPerRequest(version) || message is not (JsonRpcRequest or JsonRpcNotification))
        {
            return null;
        }

        var declared = Meta(message)?[ProtocolVersionKey] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
        if (declared is null)
        {
            return message is JsonRpcRequest
                ? new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidParams, Message = $"Requests using protocol version '{version}' must include '_meta/{ProtocolVersionKey}'." }
                : null;
        }

        return string.Equals(version, declared, StringComparison.Ordinal)
            ? null
            : Mismatch($"Bad Request: The {ProtocolVersionHeader} header value '{version}' does not match body _meta/{ProtocolVersionKey} value '{declared}'.");
    }

    /// <summary>A request of a per-request revision must declare its client capabilities (an object) in <c>_meta</c>.</summary>
    public static JsonRpcErrorDetail? CheckRequiredMeta(string version, JsonRpcMessage message) =>
        message is JsonRpcRequest && Meta(message)?[ClientCapabilitiesKey] is not JsonObject
            ? new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidParams, Message = $"Requests using protocol version '{version}' must include '_meta/{ClientCapabilitiesKey}' as a JSON object." }
            : null;

    /// <summary>
    /// The standard request headers of a per-request revision: <c>Mcp-Method</c> must repeat the body's method, and
    /// <c>Mcp-Name</c> the tool or prompt name, resource URI or, on the Tasks extension's <c>tasks/*</c>, the task id
    /// (plain, or Base64 in <c>=?base64?…?=</c>).
    /// </summary>
    /// <returns>Why the headers are refused (a <c>-32020</c> message), or <see langword="null"/>.</returns>
    public static string? CheckMethodHeaders(HttpRequest request, JsonRpcMessage message)
    {
        var method = message switch
        {
            JsonRpcRequest r => r.Method,
            JsonRpcNotification n => n.Method,
            _ => null,
        };
        if (method is null)
        {
            return null;
        }

        if (!request.Headers.TryGetValue(MethodHeader, out var methodHeader))
        {
            return $"Missing required {MethodHeader} header.";
        }

        var headerMethod = methodHeader.ToString().Trim();
        if (!string.Equals(headerMethod, method, StringComparison.Ordinal))
        {
            return $"Header mismatch: {MethodHeader} header value '{headerMethod}' does not match body value '{method}'.";
        }

        var nameParameter = method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => "name",
            RequestMethods.ResourcesRead => "uri",

            // The Tasks extension's methods are routed by the task (its HTTP binding requires Mcp-Name = taskId).
            McpTasks.GetMethod or McpTasks.UpdateMethod or McpTasks.CancelMethod => "taskId",
            _ => null,
        };
        if (nameParameter is null)
        {
            return null;
        }

        if (!request.Headers.TryGetValue(NameHeader, out var nameHeader))
        {
            return $"Missing required {NameHeader} header.";
        }

        var raw = nameHeader.ToString().Trim();
        if (!raw.All(c => c == '\t' || c is >= ' ' and <= '~'))
        {
            return $"Header mismatch: {NameHeader} header contains invalid characters.";
        }

        var decoded = McpHeaderEncoder.DecodeValue(raw);
        if (decoded is null)
        {
            return $"Header mismatch: {NameHeader} header contains invalid Base64 encoding.";
        }

        var parameters = message is JsonRpcRequest withParams ? withParams.Params : ((JsonRpcNotification)message).Params;
        var bodyName = parameters is JsonObject o && o[nameParameter] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return string.Equals(decoded, bodyName, StringComparison.Ordinal)
            ? null
            : $"Header mismatch: {NameHeader} header value '{raw}' does not match body value '{bodyName}'.";
    }

    /// <summary>Whether a method is gone in the per-request revisions (answered 404 with <c>-32601</c>).</summary>
    public static bool IsRemovedMethod(JsonRpcMessage message) =>
        message is JsonRpcRequest request && s_removedMethods.Contains(request.Method, StringComparer.Ordinal);

    private static JsonObject? Meta(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest { Params: JsonObject p } => p["_meta"] as JsonObject,
        JsonRpcNotification { Params: JsonObject p } => p["_meta"] as JsonObject,
        _ => null,
    };

    private static JsonRpcErrorDetail Mismatch(string message) => new() { Code = (int)McpErrorCode.HeaderMismatch, Message = message };
}
