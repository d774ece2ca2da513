using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// The hybrid transport's hooks into the MCP server: marks webhook tools in <c>tools/list</c>, acknowledges a webhook
/// tool's <c>tools/call</c> at once and runs the tool in the background, remembers the webhook URL a client names in
/// <c>initialize</c>, and stops a background call when the client cancels it.
/// </summary>
internal sealed partial class HybridToolFilters
{
    private readonly HybridSessionRegistry _registry;
    private readonly HybridDelivery _delivery;
    private readonly IServiceScopeFactory _scopes;
    private readonly HashSet<string> _configuredTools;
    private readonly ILogger _logger;

    public HybridToolFilters(HybridServerTransportOptions options, HybridSessionRegistry registry, HybridDelivery delivery, IServiceScopeFactory scopes, ILogger<HybridToolFilters> logger)
    {
        _registry = registry;
        _delivery = delivery;
        _scopes = scopes;
        _configuredTools = new HashSet<string>(options.WebhookTools, StringComparer.Ordinal);
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
        HybridSession? session;
        string? webhookUrl;
        if (context.Server.SessionId is { } sessionId)
        {
            session = _registry.GetOrAddSession(sessionId);
            webhookUrl = requestWebhook ?? session.WebhookUrl;
        }
        else
        {
            webhookUrl = requestWebhook;
            session = webhookUrl is null ? null : _registry.GetOrAddSessionless(webhookUrl);
        }

        if (session is null || webhookUrl is null)
        {
            // The client has no webhook: the tool answers on the stream like any other.
            return await next(context, cancellationToken).ConfigureAwait(false);
        }

        if (await _delivery.CheckAddressAsync(webhookUrl, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            LogWebhookRefused(webhookUrl, session.Label, refusal);
            throw new McpProtocolException($"The webhook URL is refused by the server's reply-address policy: {refusal}", McpErrorCode.InvalidParams);
        }

        _delivery.OnClientActivity(session);
        return StartCall(next, context, name, session, webhookUrl);
    }

    /// <summary>Remembers <c>initialize</c>'s webhook URL (refusing one the policy does not allow) and handles cancellation of webhook calls.</summary>
    public async Task OnIncomingAsync(McpMessageHandler next, MessageContext context, CancellationToken cancellationToken)
    {
        var sessionId = context.Server.SessionId;
        switch (context.JsonRpcMessage)
        {
            case JsonRpcRequest { Method: RequestMethods.Initialize } initialize when sessionId is not null:
                var webhookUrl = ReadString(ReadMeta(initialize.Params), HybridMeta.WebhookUrl);
                if (webhookUrl is not null)
                {
                    if (await _delivery.CheckAddressAsync(webhookUrl, cancellationToken).ConfigureAwait(false) is { } refusal)
                    {
                        LogWebhookRefused(webhookUrl, sessionId, refusal);
                        throw new McpProtocolException($"The webhook URL in initialize is refused by the server's reply-address policy: {refusal}", McpErrorCode.InvalidParams);
                    }

                    _registry.GetOrAddSession(sessionId).WebhookUrl = webhookUrl;
                }

                break;

            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                Cancel(cancelled, sessionId);
                break;
        }

        if (_registry.FindSession(sessionId) is { } active)
        {
            _delivery.OnClientActivity(active);
        }

        await next(context, cancellationToken).ConfigureAwait(false);
    }

    private CallToolResult StartCall(McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, string name, HybridSession session, string webhookUrl)
    {
        var requestId = context.JsonRpcRequest.Id;
        var key = requestId.ToString();
        var cancellation = new CancellationTokenSource();
        if (!session.Calls.TryAdd(key, cancellation))
        {
            cancellation.Dispose();
            throw new McpProtocolException($"Request id {key} is already running on this session.", McpErrorCode.InvalidRequest);
        }

        // The request's own scope and token end when this filter returns; the call gets its own.
        var scope = _scopes.CreateAsyncScope();
        var transport = new WebhookCallTransport(session, webhookUrl, $"{session.Key}|{key}", _delivery);
        var call = new RequestContext<CallToolRequestParams>(new WebhookCallServer(context.Server, session, transport), context.JsonRpcRequest, context.Params!)
        {
            MatchedPrimitive = context.MatchedPrimitive,
            Services = scope.ServiceProvider,
            User = context.User,
        };
        foreach (var item in context.Items)
        {
            call.Items[item.Key] = item.Value;
        }

        LogAccepted(name, requestId, session.Label);
        var token = cancellation.Token;
        _ = Task.Run(() => RunCallAsync(next, call, name, requestId, session, webhookUrl, transport, cancellation, scope, token), CancellationToken.None);
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = $"Accepted: the result of '{name}' will be delivered to your webhook." }],
            Meta = new JsonObject
            {
                [HybridMeta.Delivery] = HybridMeta.Webhook,
                [HybridMeta.Accepted] = true,
            },
        };
    }

    private async Task RunCallAsync(
        McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        RequestContext<CallToolRequestParams> call,
        string name,
        RequestId requestId,
        HybridSession session,
        string webhookUrl,
        WebhookCallTransport transport,
        CancellationTokenSource cancellation,
        AsyncServiceScope scope,
        CancellationToken token)
    {
        JsonRpcMessageWithId? final = null;
        try
        {
            final = Response(requestId, await next(call, token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // A cancelled request gets no response (MCP's cancellation rule).
            LogCallCancelled(name, requestId, session.Label);
        }
        catch (McpProtocolException ex)
        {
            final = new JsonRpcError { Id = requestId, Error = new JsonRpcErrorDetail { Code = (int)ex.ErrorCode, Message = ex.Message } };
        }
        catch (Exception ex)
        {
            // As the SDK answers a tool that throws on the stream: an error result, with the message only of an McpException.
            LogCallFailed(ex, name, requestId, session.Label);
            final = Response(requestId, new CallToolResult
            {
                IsError = true,
                Content = [new TextContentBlock { Text = ex is McpException ? $"An error occurred invoking '{name}': {ex.Message}" : $"An error occurred invoking '{name}'." }],
            });
        }
        finally
        {
            session.Calls.TryRemove(new KeyValuePair<string, CancellationTokenSource>(requestId.ToString(), cancellation));
            cancellation.Dispose();
            await scope.DisposeAsync().ConfigureAwait(false);
        }

        if (final is not null)
        {
            // After the call's progress and log messages, so the client sees them before the result.
            await transport.Sent.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _delivery.DeliverResultAsync(session, webhookUrl, final).ConfigureAwait(false);
        }
    }

    private static JsonRpcResponse Response(RequestId id, CallToolResult result) => new()
    {
        Id = id,
        Result = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult))),
    };

    private void Cancel(JsonRpcNotification cancelled, string? sessionId)
    {
        if (cancelled.Params is not JsonObject parameters || parameters["requestId"] is not JsonValue requestId)
        {
            return;
        }

        var session = _registry.FindSession(sessionId) ?? _registry.FindSessionless(ReadString(ReadMeta(parameters), HybridMeta.WebhookUrl));
        var key = requestId.GetValueKind() == JsonValueKind.String ? requestId.GetValue<string>() : requestId.ToJsonString();
        if (session is not null && session.Calls.TryGetValue(key, out var cancellation))
        {
            try
            {
                cancellation.Cancel();
                LogCancelRequested(key, session.Label);
            }
            catch (ObjectDisposedException)
            {
                // It finished meanwhile.
            }
        }
    }

    private static JsonObject? ReadMeta(JsonNode? parameters) => parameters is JsonObject o ? o["_meta"] as JsonObject : null;

    private static string? ReadString(JsonObject? meta, string key) =>
        meta?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) was accepted; its result will be delivered by webhook.")]
    private partial void LogAccepted(string tool, RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) was cancelled by the client; no result is sent.")]
    private partial void LogCallCancelled(string tool, RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The client cancelled webhook call {RequestId} (session {SessionId}).")]
    private partial void LogCancelRequested(string requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) failed; the client gets an error result.")]
    private partial void LogCallFailed(Exception exception, string tool, RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook URL {WebhookUrl} (session {SessionId}) was refused by the reply-address policy: {Reason}")]
    private partial void LogWebhookRefused(string webhookUrl, string sessionId, string reason);
}
