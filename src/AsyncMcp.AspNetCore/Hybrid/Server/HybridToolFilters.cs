using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// The hybrid transport's hooks into the MCP server: marks webhook tools in <c>tools/list</c>, hands a webhook tool's
/// <c>tools/call</c> to the <see cref="WebhookCallRunner"/> (which acknowledges it at once), remembers the webhook URL
/// a client names in <c>initialize</c>, offers kept results again whenever the client sends something, and stops a
/// background call when the client cancels it.
/// </summary>
internal sealed partial class HybridToolFilters
{
    private readonly HybridSessionRegistry _registry;
    private readonly HybridDelivery _delivery;
    private readonly WebhookCallRunner _runner;
    private readonly HashSet<string> _configuredTools;
    private readonly bool _jsonResponses;
    private readonly ILogger _logger;

    public HybridToolFilters(HybridServerTransportOptions options, HybridSessionRegistry registry, HybridDelivery delivery, WebhookCallRunner runner, ILogger<HybridToolFilters> logger)
    {
        _registry = registry;
        _delivery = delivery;
        _runner = runner;
        _configuredTools = new HashSet<string>(options.WebhookTools, StringComparer.Ordinal);
        _jsonResponses = options.ResponseMode == HybridResponseMode.Json;
        _logger = logger;
    }

    /// <summary>Whether a tool's final result goes to the client's webhook.</summary>
    public bool IsWebhookTool(string name, McpServerTool? tool) =>
        _configuredTools.Contains(name) || (tool?.Metadata.OfType<WebhookDeliveryAttribute>().Any() ?? false);

    /// <summary>Adds <c>_meta["asyncmcp/delivery"] = "webhook"</c> to the definitions of webhook tools.</summary>
    public async ValueTask<ListToolsResult> ListToolsAsync(McpRequestHandler<ListToolsRequestParams, ListToolsResult> next, RequestContext<ListToolsRequestParams> context, CancellationToken cancellationToken)
    {
        var result = await next(context, cancellationToken).ConfigureAwait(false);
        var collection = context.Server.ServerOptions.ToolCollection;
        foreach (var tool in result.Tools)
        {
            McpServerTool? primitive = null;
            _ = collection?.TryGetPrimitive(tool.Name, out primitive);
            if (IsWebhookTool(tool.Name, primitive))
            {
                // A copy of the metadata: the definition object may be shared by every session.
                var meta = tool.Meta is null ? new JsonObject() : (JsonObject)tool.Meta.DeepClone();
                meta[HybridMeta.Delivery] = HybridMeta.Webhook;
                tool.Meta = meta;
            }
        }

        return result;
    }

    /// <summary>Runs a webhook tool in the background and answers with an acknowledgement; other calls pass through.</summary>
    public async ValueTask<CallToolResult> CallToolAsync(McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var name = context.Params?.Name;
        if (name is null || !IsWebhookTool(name, context.MatchedPrimitive as McpServerTool) || ReadString(context.Params!.Meta, HybridMeta.Delivery) == HybridMeta.Stream)
        {
            return await next(context, cancellationToken).ConfigureAwait(false);
        }

        var requestWebhook = ReadString(context.Params!.Meta, HybridMeta.WebhookUrl);
        HybridSession? session = null;
        string? webhookUrl = requestWebhook;
        if (context.Server.SessionId is { } sessionId)
        {
            session = _registry.FindSession(sessionId);
            webhookUrl ??= session?.WebhookUrl;
            if (session is null)
            {
                webhookUrl = null;
            }
        }

        if (webhookUrl is null)
        {
            // The client has no webhook: the tool answers on the stream like any other.
            return await next(context, cancellationToken).ConfigureAwait(false);
        }

        if (await _delivery.CheckAddressAsync(webhookUrl, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            LogWebhookRefused(webhookUrl, session?.Label ?? "(sessionless)", refusal);
            throw new McpProtocolException($"The webhook URL is refused by the server's reply-address policy: {refusal}", McpErrorCode.InvalidParams);
        }

        return await _runner.StartAsync(next, context, name, session, webhookUrl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Remembers <c>initialize</c>'s webhook URL (refusing one the policy does not allow), handles cancellation of
    /// webhook calls, and offers kept results again: any message from a client (or, sessionless, any message naming
    /// the same webhook URL) says it may be reachable again.
    /// </summary>
    public async Task OnIncomingAsync(McpMessageHandler next, MessageContext context, CancellationToken cancellationToken)
    {
        var sessionId = context.Server.SessionId;
        switch (context.JsonRpcMessage)
        {
            case JsonRpcRequest { Params: not null and not JsonObject } malformed:
                // MCP's params are always an object; the SDK would fail to read them and answer -32603 "An error occurred."
                throw new McpProtocolException($"Invalid params: the params of '{malformed.Method}' must be a JSON object.", McpErrorCode.InvalidParams);

            case JsonRpcRequest { Method: RequestMethods.ToolsCall } toolCall when ReadCallParams(toolCall) is { } invalid:
                throw new McpProtocolException($"Invalid params of 'tools/call': {invalid}", McpErrorCode.InvalidParams);

            case JsonRpcRequest { Method: RequestMethods.Initialize } initialize when sessionId is not null:
                var webhookUrl = ReadString(ReadMeta(initialize.Params), HybridMeta.WebhookUrl);
                if (webhookUrl is not null)
                {
                    if (await _delivery.CheckAddressAsync(webhookUrl, cancellationToken).ConfigureAwait(false) is { } refusal)
                    {
                        LogWebhookRefused(webhookUrl, sessionId, refusal);
                        throw new McpProtocolException($"The webhook URL in initialize is refused by the server's reply-address policy: {refusal}", McpErrorCode.InvalidParams);
                    }

                    if (_registry.FindSession(sessionId) is { } session)
                    {
                        session.WebhookUrl = webhookUrl;
                    }
                }

                break;

            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                Cancel(cancelled, sessionId);
                break;
        }

        var active = sessionId is not null
            ? _registry.FindSession(sessionId)
            : _registry.FindSessionless(ReadString(ReadMeta(ParamsOf(context.JsonRpcMessage)), HybridMeta.WebhookUrl));
        if (active is not null)
        {
            _delivery.OnClientActivity(active);
        }

        await next(context, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// In JSON response mode, a request a tool sends to the client (sampling, elicitation, roots) cannot ride the POST's
    /// JSON body: it goes on the session's GET stream when one is open, and otherwise fails at once with an error the
    /// tool sees, instead of being dropped while the tool waits for an answer for ever.
    /// </summary>
    public Task OnOutgoingAsync(McpMessageHandler next, MessageContext context, CancellationToken cancellationToken)
    {
        if (_jsonResponses &&
            context.JsonRpcMessage is JsonRpcRequest { Context.RelatedTransport: { } related } request &&
            related is not WebhookCallTransport &&
            context.Server.SessionId is { } sessionId)
        {
            if (_registry.FindSession(sessionId) is not { HasOpenStream: true })
            {
                LogRequestRefused(request.Method, sessionId);
                throw new McpException(
                    $"The client cannot be sent '{request.Method}': the server answers in JSON response mode, where such a request can only travel on the " +
                    "session's GET stream, and the client has none open. Open a GET stream, or serve in SSE response mode.");
            }

            // Sent by the session's own transport, which writes it on the open GET stream.
            request.Context!.RelatedTransport = null;
        }

        return next(context, cancellationToken);
    }

    private void Cancel(JsonRpcNotification cancelled, string? sessionId)
    {
        if (cancelled.Params is not JsonObject parameters || parameters["requestId"] is not JsonValue requestId)
        {
            return;
        }

        var session = sessionId is not null
            ? _registry.FindSession(sessionId)
            : _registry.FindSessionless(ReadString(ReadMeta(parameters), HybridMeta.WebhookUrl));
        if (session is null)
        {
            return;
        }

        var key = requestId.GetValueKind() == JsonValueKind.String ? requestId.GetValue<string>() : requestId.ToJsonString();
        if (session.FindCall(key) is { } call)
        {
            call.Stop(CallStopReason.ClientCancelled);
            LogCancelRequested(key, session.Label);
        }

        _delivery.OnCallCancelled(session, key);
    }

    /// <summary>Why a <c>tools/call</c>'s params cannot be read as the SDK will read them, or <see langword="null"/> when they can.</summary>
    private static string? ReadCallParams(JsonRpcRequest request)
    {
        try
        {
            return JsonSerializer.Deserialize(request.Params, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolRequestParams))) is CallToolRequestParams { Name.Length: > 0 }
                ? null
                : "a tool 'name' is required.";
        }
        catch (JsonException ex)
        {
            return ex.Message;
        }
    }

    private static JsonNode? ParamsOf(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => request.Params,
        JsonRpcNotification notification => notification.Params,
        _ => null,
    };

    private static JsonObject? ReadMeta(JsonNode? parameters) => parameters is JsonObject o ? o["_meta"] as JsonObject : null;

    private static string? ReadString(JsonObject? meta, string key) =>
        meta?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "JSON response mode: the request '{Method}' of session {SessionId} failed at once: it can only reach the client on a GET stream, and none is open.")]
    private partial void LogRequestRefused(string method, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The client cancelled webhook call {RequestId} (session {SessionId}).")]
    private partial void LogCancelRequested(string requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook URL {WebhookUrl} (session {SessionId}) was refused by the reply-address policy: {Reason}")]
    private partial void LogWebhookRefused(string webhookUrl, string sessionId, string reason);
}
