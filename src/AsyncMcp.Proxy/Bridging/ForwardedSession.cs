using System.Collections;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable MCP9005 // Logging, roots and sampling are deprecated by protocol revision 2026-07-28; the forwarder serves 2025-11-25 sessions, where they are live.

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// One front session of a <see cref="McpServerForwarder"/> and its upstream client: forwards the front's requests to the
/// MCP server, and the server's notifications and requests back, each to the front request it belongs to when that can
/// be told (progress by its token), else to the session.
/// </summary>
internal sealed partial class ForwardedSession : IAsyncDisposable
{
    private const string RemotePrefix = "Request failed (remote): ";

    private readonly McpServerForwarder _owner;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<RequestId, ForwardedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, ForwardedRequest> _byProgressToken = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private McpServer? _server;
    private Task<McpClient>? _upstream;
    private SessionSlots.Slot? _slot;
    private long _sequence;
    private int _disposed;

    public ForwardedSession(McpServerForwarder owner)
    {
        _owner = owner;
        _logger = owner.Logger;
    }

    private string Label => _server?.SessionId ?? "(no session id)";

    /// <summary>The session's own server: what is not tied to a front request goes through it.</summary>
    public void Attach(McpServer server)
    {
        if (Interlocked.CompareExchange(ref _server, server, null) is not null)
        {
            throw new InvalidOperationException(
                $"Two sessions share one {nameof(McpServerOptions)}; give each session options of its own, configured by {nameof(McpServerForwarder)}.{nameof(McpServerForwarder.ConfigureServer)}.");
        }
    }

    /// <summary>
    /// The front server's incoming message filter: refuses sessionless requests, opens the upstream connection on
    /// <c>initialize</c> (before the SDK answers it, so a server that cannot start fails it), and passes the client's
    /// <c>notifications/roots/list_changed</c> on.
    /// </summary>
    public McpMessageHandler OnIncoming(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        switch (context.JsonRpcMessage)
        {
            case JsonRpcRequest { Context.ProtocolVersion: { } version } when string.CompareOrdinal(version, "2026-07-28") >= 0:
                throw new UnsupportedProtocolVersionException(
                    version,
                    McpServerForwarder.SessionProtocolVersions,
                    $"This server forwards each session to an MCP server of its own and serves only protocol revisions with sessions (initialize): " +
                    $"{string.Join(", ", McpServerForwarder.SessionProtocolVersions)}; '{version}' has none.");

            case JsonRpcRequest { Method: RequestMethods.Initialize } initialize:
                await OpenUpstreamAsync(initialize, cancellationToken).ConfigureAwait(false);
                break;

            case JsonRpcNotification { Method: NotificationMethods.RootsListChangedNotification } notification:
                if (_upstream is { IsCompletedSuccessfully: true } open)
                {
                    await SendQuietlyAsync(open.Result, new JsonRpcNotification { Method = notification.Method, Params = notification.Params?.DeepClone() }, "MCP server").ConfigureAwait(false);
                }

                break;
        }

        await next(context, cancellationToken).ConfigureAwait(false);
    };

    /// <summary>Forwards a front request to the MCP server as it came, and its answer back.</summary>
    public async ValueTask<TResult> ForwardAsync<TParams, TResult>(RequestContext<TParams> context, CancellationToken cancellationToken)
        where TResult : class
    {
        var upstream = await UpstreamAsync(cancellationToken).ConfigureAwait(false);
        var front = context.JsonRpcRequest;
        var parameters = WithoutFrontMeta(front.Params?.DeepClone());
        var forwarded = new ForwardedRequest(context.Server, front.Method, Interlocked.Increment(ref _sequence), ProgressTokens.OfRequest(parameters));
        _requests[front.Id] = forwarded;
        if (forwarded.ProgressKey is { } key)
        {
            _byProgressToken[key] = forwarded;
        }

        try
        {
            JsonRpcResponse response;
            try
            {
                response = await upstream.SendRequestAsync(new JsonRpcRequest { Method = front.Method, Params = parameters }, cancellationToken).ConfigureAwait(false);
            }
            catch (McpProtocolException ex)
            {
                throw Relayed(ex);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogForwardFailed(front.Method, Label, ex.Message);
                throw new McpProtocolException(
                    upstream.Completion.IsCompleted
                        ? "The MCP server behind this bridge has exited; start a new session."
                        : $"The MCP server behind this bridge could not be reached: {ex.Message}",
                    McpErrorCode.InternalError);
            }

            // Progress read before the answer is handed over first, so the client sees it before the result.
            await forwarded.SentAsync().ConfigureAwait(false);
            return Deserialize<TResult>(response.Result, front.Method);
        }
        finally
        {
            _requests.TryRemove(new KeyValuePair<RequestId, ForwardedRequest>(front.Id, forwarded));
            if (forwarded.ProgressKey is { } progressKey)
            {
                _byProgressToken.TryRemove(new KeyValuePair<string, ForwardedRequest>(progressKey, forwarded));
            }
        }
    }

    /// <summary>Closes the upstream connection (a child process ends) and frees the session's place. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        Task<McpClient>? upstream;
        lock (_gate)
        {
            upstream = _upstream;
        }

        var closed = false;
        if (upstream is not null)
        {
            try
            {
                var client = await upstream.ConfigureAwait(false);
                await client.DisposeAsync().ConfigureAwait(false);
                closed = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // It never connected (that was reported when it failed), or closing it failed: nothing more to do.
                LogCloseFailed(Label, ex.Message);
            }
        }

        // The slot is free before the line says the session ended, as in McpServerBridge: whoever reads the line may
        // open the next session at once.
        ReleaseSlot();
        if (closed)
        {
            LogSessionEnded(Label);
        }

        _lifetime.Dispose();
    }

    private async Task OpenUpstreamAsync(JsonRpcRequest initialize, CancellationToken cancellationToken)
    {
        Task<McpClient> connecting;
        lock (_gate)
        {
            if (_upstream is not null || Volatile.Read(ref _disposed) != 0)
            {
                // A second initialize on the session: the SDK answers it; the connection stays as it is.
                return;
            }

            if (_owner.IsDisposed)
            {
                throw new McpProtocolException("The server is stopping; start a new session later.", McpErrorCode.InternalError);
            }

            _slot = _owner.TryTakeSlot()
                ?? throw new McpProtocolException($"The bridge already serves its limit of {_owner.Options.MaxSessions} sessions; try again later.", McpErrorCode.InternalError);
            InitializeRequestParams? parameters;
            try
            {
                parameters = initialize.Params?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InitializeRequestParams))) as InitializeRequestParams;
            }
            catch (JsonException ex)
            {
                ReleaseSlot();
                throw new McpProtocolException($"Invalid params of 'initialize': {ex.Message}", McpErrorCode.InvalidParams);
            }

            connecting = ConnectAsync(parameters, _lifetime.Token);
            _upstream = connecting;
        }

        try
        {
            var client = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
            LogSessionStarted(Label, client.NegotiatedProtocolVersion ?? "?");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var reason = McpServerBridge.Reason(ex);
            LogConnectFailed(Label, reason);
            ReleaseSlot();
            throw new McpProtocolException($"The MCP server behind this bridge could not be started: {reason}", McpErrorCode.InternalError);
        }
    }

    // The slot is given back once: by a failed connect, or by disposal, whichever comes first.
    private void ReleaseSlot() => Interlocked.Exchange(ref _slot, null)?.Dispose();

    private Task<McpClient> ConnectAsync(InitializeRequestParams? front, CancellationToken cancellationToken)
    {
        var capabilities = front?.Capabilities ?? new ClientCapabilities();
        var version = front?.ProtocolVersion is { } asked && Array.IndexOf(McpServerForwarder.SessionProtocolVersions, asked) >= 0 ? asked : null;
        var meta = front?.Meta?.DeepClone() as JsonObject;
        if (meta is not null)
        {
            foreach (var key in _owner.Options.MetaKeysNotForwarded)
            {
                meta.Remove(key);
            }
        }

        McpClientOptions Options(string? protocolVersion) => new()
        {
            ProtocolVersion = protocolVersion,
            ClientInfo = front?.ClientInfo,
            InitializeMeta = meta is { Count: > 0 } ? (JsonObject)meta.DeepClone() : null,

            // The MCP server is offered what the front client offers, and no more.
            Capabilities = new ClientCapabilities
            {
                Sampling = capabilities.Sampling,
                Elicitation = capabilities.Elicitation,
                Roots = capabilities.Roots,
                Experimental = capabilities.Experimental,
                Extensions = capabilities.Extensions,
            },
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.LoggingMessageNotification, OnUpstreamNotificationAsync),
                    new(NotificationMethods.ToolListChangedNotification, OnUpstreamNotificationAsync),
                    new(NotificationMethods.PromptListChangedNotification, OnUpstreamNotificationAsync),
                    new(NotificationMethods.ResourceListChangedNotification, OnUpstreamNotificationAsync),
                    new(NotificationMethods.ResourceUpdatedNotification, OnUpstreamNotificationAsync),
                    new(NotificationMethods.ElicitationCompleteNotification, OnUpstreamNotificationAsync),
                ],
                SamplingHandler = capabilities.Sampling is null ? null : (p, _, ct) => ToClientAsync<CreateMessageRequestParams, CreateMessageResult>(RequestMethods.SamplingCreateMessage, p, ct),
                ElicitationHandler = capabilities.Elicitation is null ? null : (p, ct) => ToClientAsync<ElicitRequestParams, ElicitResult>(RequestMethods.ElicitationCreate, p, ct),
                RootsHandler = capabilities.Roots is null ? null : (p, ct) => ToClientAsync<ListRootsRequestParams, ListRootsResult>(RequestMethods.RootsList, p, ct),
            },
        };

        return _owner.ConnectUpstreamAsync(Options, cancellationToken, version, OnUpstreamProgress);
    }

    private async Task<McpClient> UpstreamAsync(CancellationToken cancellationToken)
    {
        var connecting = Volatile.Read(ref _upstream)
            ?? throw new McpProtocolException("The session is not initialized: send initialize first.", McpErrorCode.InvalidRequest);
        McpClient client;
        try
        {
            client = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new McpProtocolException($"The MCP server behind this bridge could not be started: {McpServerBridge.Reason(ex)}", McpErrorCode.InternalError);
        }

        return client.Completion.IsCompleted
            ? throw new McpProtocolException("The MCP server behind this bridge has exited; start a new session.", McpErrorCode.InternalError)
            : client;
    }

    /// <summary>
    /// Progress goes back through the server of the request whose token it names (its POST's stream, or its webhook).
    /// Called in the order the MCP server's messages arrive: the send starts, and is tracked, before the request's answer
    /// is read.
    /// </summary>
    private void OnUpstreamProgress(JsonRpcNotification notification)
    {
        if (ProgressTokens.OfNotification(notification.Params) is { } key && _byProgressToken.TryGetValue(key, out var request))
        {
            request.Track(SendQuietlyAsync(request.Server, Copy(notification), "client"));
            return;
        }

        LogProgressDropped(Label);
    }

    /// <summary>Log messages, list changes and resource updates belong to the session: they go on its stream.</summary>
    private ValueTask OnUpstreamNotificationAsync(JsonRpcNotification notification, CancellationToken cancellationToken) =>
        _server is { } server ? new ValueTask(SendQuietlyAsync(server, Copy(notification), "client")) : default;

    /// <summary>
    /// A request of the MCP server to the client (sampling, elicitation, roots) goes through the newest front
    /// <c>tools/call</c> in flight, which most likely caused it (its POST's stream, or its webhook), or else the session.
    /// </summary>
    private async ValueTask<TResult> ToClientAsync<TParams, TResult>(string method, TParams? parameters, CancellationToken cancellationToken)
        where TResult : class
    {
        var route = _requests.Values.Where(r => r.Method == RequestMethods.ToolsCall).MaxBy(r => r.Sequence)?.Server ?? _server
            ?? throw new McpException($"The client cannot be sent '{method}': the session has no server yet.");
        var request = new JsonRpcRequest
        {
            Method = method,
            Params = parameters is null ? null : JsonSerializer.SerializeToNode(parameters, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(TParams))),
        };
        var response = await route.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
        return Deserialize<TResult>(response.Result, method);
    }

    private JsonNode? WithoutFrontMeta(JsonNode? parameters)
    {
        if (_owner.Options.MetaKeysNotForwarded.Count > 0 && parameters is JsonObject o && o["_meta"] is JsonObject meta)
        {
            foreach (var key in _owner.Options.MetaKeysNotForwarded)
            {
                meta.Remove(key);
            }

            if (meta.Count == 0)
            {
                o.Remove("_meta");
            }
        }

        return parameters;
    }

    private static JsonRpcNotification Copy(JsonRpcNotification notification) =>
        new() { Method = notification.Method, Params = notification.Params?.DeepClone() };

    private static TResult Deserialize<TResult>(JsonNode? result, string method)
        where TResult : class =>
        result?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(TResult))) as TResult
            ?? throw new McpProtocolException($"The answer to '{method}' has no result.", McpErrorCode.InternalError);

    /// <summary>The MCP server's JSON-RPC error, as it gave it (the SDK's client prefixes its message).</summary>
    private static McpProtocolException Relayed(McpProtocolException remote)
    {
        if (remote is UrlElicitationRequiredException or UnsupportedProtocolVersionException or MissingRequiredClientCapabilityException)
        {
            return remote;
        }

        var message = remote.Message.StartsWith(RemotePrefix, StringComparison.Ordinal) ? remote.Message[RemotePrefix.Length..] : remote.Message;
        var relayed = new McpProtocolException(message, remote.ErrorCode);
        foreach (DictionaryEntry entry in remote.Data)
        {
            relayed.Data[entry.Key] = entry.Value;
        }

        return relayed;
    }

    private async Task SendQuietlyAsync(McpSession target, JsonRpcMessage message, string side)
    {
        try
        {
            await target.SendMessageAsync(message, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException or McpException)
        {
            LogNotForwarded(message is JsonRpcNotification n ? n.Method : message.GetType().Name, side, Label, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is connected to its MCP server (protocol {ProtocolVersion}).")]
    private partial void LogSessionStarted(string sessionId, string protocolVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} ended; its MCP server connection is closed.")]
    private partial void LogSessionEnded(string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The MCP server of session {SessionId} could not be started or reached: {Error}")]
    private partial void LogConnectFailed(string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "'{Method}' of session {SessionId} could not be forwarded to the MCP server: {Error}")]
    private partial void LogForwardFailed(string method, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "'{Method}' could not be forwarded to the {Side} of session {SessionId}: {Error}")]
    private partial void LogNotForwarded(string method, string side, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A progress notification of session {SessionId} names no request in flight; dropped.")]
    private partial void LogProgressDropped(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the MCP server connection of session {SessionId}: {Error}")]
    private partial void LogCloseFailed(string sessionId, string error);

    /// <summary>A front request in flight upstream: the server its messages go back through, and what it has sent so far.</summary>
    private sealed class ForwardedRequest(McpServer server, string method, long sequence, string? progressKey)
    {
        private readonly List<Task> _sends = [];

        public McpServer Server { get; } = server;

        public string Method { get; } = method;

        public long Sequence { get; } = sequence;

        public string? ProgressKey { get; } = progressKey;

        public void Track(Task send)
        {
            lock (_sends)
            {
                _sends.RemoveAll(static t => t.IsCompleted);
                _sends.Add(send);
            }
        }

        public Task SentAsync()
        {
            lock (_sends)
            {
                return Task.WhenAll(_sends);
            }
        }
    }
}
