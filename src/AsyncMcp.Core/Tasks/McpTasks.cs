using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// Names and helpers of the MCP Tasks extension (<c>io.modelcontextprotocol/tasks</c>, SEP-2663), the draft
/// specification of the extension for protocol revision 2026-07-28 and later.
/// </summary>
/// <remarks>
/// The extension is negotiated per request: a client declares it in the request's
/// <c>_meta["io.modelcontextprotocol/clientCapabilities"].extensions</c> and a server advertises it in its
/// capabilities; both declarations are exactly <c>{}</c>. It is not defined for revision 2025-11-25.
/// </remarks>
public static class McpTasks
{
    /// <summary>The extension identifier, the key under <c>capabilities.extensions</c>.</summary>
    public const string ExtensionId = "io.modelcontextprotocol/tasks";

    /// <summary>The first protocol revision the extension is defined for.</summary>
    public const string MinimumProtocolVersion = "2026-07-28";

    /// <summary>The method that reads a task's state: <c>tasks/get</c>.</summary>
    public const string GetMethod = "tasks/get";

    /// <summary>The method that answers a task's input requests: <c>tasks/update</c>.</summary>
    public const string UpdateMethod = "tasks/update";

    /// <summary>The method that asks a server to cancel a task: <c>tasks/cancel</c>.</summary>
    public const string CancelMethod = "tasks/cancel";

    /// <summary>The <c>resultType</c> of a <see cref="CreateTaskResult"/>: <c>task</c>.</summary>
    public const string TaskResultType = "task";

    /// <summary>The <c>resultType</c> of every other result of the extension (and of an ordinary result): <c>complete</c>.</summary>
    public const string CompleteResultType = "complete";

    /// <summary>The error code for a request that needs the extension but did not declare it (<c>-32021</c>).</summary>
    public const McpErrorCode MissingCapabilityErrorCode = McpErrorCode.MissingRequiredClientCapability;

    /// <summary>The error code for an unknown, expired or invalid task id (<c>-32602</c>).</summary>
    public const McpErrorCode UnknownTaskErrorCode = McpErrorCode.InvalidParams;

    /// <summary>Tells whether a protocol revision is one the extension is defined for (2026-07-28 or later).</summary>
    /// <param name="protocolVersion">The negotiated revision, such as <c>2026-07-28</c>.</param>
    /// <returns><see langword="true"/> for 2026-07-28 and later revisions.</returns>
    public static bool IsDefinedFor(string? protocolVersion) =>
        protocolVersion is not null && string.CompareOrdinal(protocolVersion, MinimumProtocolVersion) >= 0;

    /// <summary>Tells whether client capabilities declare the extension.</summary>
    /// <param name="capabilities">The capabilities of one request (on 2026-07-28, each request carries its own).</param>
    /// <returns><see langword="true"/> when <c>extensions["io.modelcontextprotocol/tasks"]</c> is a JSON object.</returns>
    public static bool IsDeclaredBy(ClientCapabilities? capabilities) =>
        capabilities?.Extensions is { } extensions
        && extensions.TryGetValue(ExtensionId, out var value)
        && value switch
        {
            JsonElement element => element.ValueKind == JsonValueKind.Object,
            JsonObject => true,
            _ => false,
        };

    /// <summary>Creates the capabilities that declare the extension: <c>{"extensions":{"io.modelcontextprotocol/tasks":{}}}</c>.</summary>
    /// <returns>A new object each time, safe to change.</returns>
    public static ClientCapabilities CreateRequiredCapabilities() =>
        new() { Extensions = new Dictionary<string, object> { [ExtensionId] = new JsonObject() } };

    /// <summary>
    /// Creates the error a server answers when a request needs the extension and did not declare it: <c>-32021</c> with
    /// <c>data.requiredCapabilities.extensions["io.modelcontextprotocol/tasks"] = {}</c>.
    /// </summary>
    /// <returns>The exception to throw from a request handler.</returns>
    public static MissingRequiredClientCapabilityException CreateMissingCapabilityException() =>
        new(CreateRequiredCapabilities(), "Missing required client capability");

    /// <summary>
    /// Serializes a tool's result for a task's <c>result</c> member, with <c>"resultType": "complete"</c> set when the
    /// result carries none: clients that validate the inlined result as a 2026-07-28 result (the extension's TypeScript
    /// client among them) refuse one without it.
    /// </summary>
    /// <param name="result">The tool's result.</param>
    /// <returns>The JSON object to store as the completed task's result.</returns>
    public static JsonObject ToInlinedResult(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var node = (JsonObject)JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult)))!;
        node["resultType"] ??= CompleteResultType;
        return node;
    }

    /// <summary>Adds the extension's declaration to a request's <c>params._meta</c>, keeping whatever else is there.</summary>
    internal static void DeclareOn(JsonObject requestParams)
    {
        if (requestParams["_meta"] is not JsonObject meta)
        {
            meta = new JsonObject();
            requestParams["_meta"] = meta;
        }

        if (meta[MetaClientCapabilities] is not JsonObject capabilities)
        {
            capabilities = new JsonObject();
            meta[MetaClientCapabilities] = capabilities;
        }

        if (capabilities["extensions"] is not JsonObject extensions)
        {
            extensions = new JsonObject();
            capabilities["extensions"] = extensions;
        }

        extensions[ExtensionId] = new JsonObject();
    }

    internal const string MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities";
}
