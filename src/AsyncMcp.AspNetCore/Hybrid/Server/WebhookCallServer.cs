using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// The <see cref="McpServer"/> a webhook call's tool sees: the same server, except that what the tool sends (progress,
/// log messages, requests to the client) goes through the call's <see cref="WebhookCallTransport"/>, since the POST that
/// started the call has already been answered.
/// </summary>
#pragma warning disable MCPEXP002 // Deriving from McpServer is experimental in the SDK; a call's messages must be rerouted after its POST is answered.
internal sealed class WebhookCallServer : McpServer
{
    private readonly McpServer _requestServer;
    private readonly HybridSession _session;
    private readonly WebhookCallTransport _transport;

    public WebhookCallServer(McpServer requestServer, HybridSession session, WebhookCallTransport transport)
    {
        _requestServer = requestServer;
        _session = session;
        _transport = transport;
    }

    /// <inheritdoc />
    public override string? SessionId => _requestServer.SessionId;

    /// <inheritdoc />
    public override string? NegotiatedProtocolVersion => _requestServer.NegotiatedProtocolVersion;

    /// <inheritdoc />
    public override ClientCapabilities? ClientCapabilities => _requestServer.ClientCapabilities;

    /// <inheritdoc />
    public override Implementation? ClientInfo => _requestServer.ClientInfo;

    /// <inheritdoc />
    public override McpServerOptions ServerOptions => _requestServer.ServerOptions;

    /// <inheritdoc />
    public override IServiceProvider? Services => _requestServer.Services;

    /// <inheritdoc />
    [Obsolete("Deprecated with the protocol's logging level; forwarded unchanged.")]
    public override LoggingLevel? LoggingLevel => _requestServer.LoggingLevel;

    /// <inheritdoc />
    public override IAsyncDisposable RegisterNotificationHandler(string method, Func<JsonRpcNotification, CancellationToken, ValueTask> handler) =>
        _requestServer.RegisterNotificationHandler(method, handler);

    /// <inheritdoc />
    public override Task RunAsync(CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("A webhook call's server is already running as part of its session.");

    /// <inheritdoc />
    public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_session.Server is { } sessionServer)
        {
            message.Context = new JsonRpcMessageContext { RelatedTransport = _transport };
            return _transport.Track(sessionServer.SendMessageAsync(message, cancellationToken));
        }

        return _transport.Track(_transport.SendMessageAsync(message, cancellationToken));
    }

    /// <inheritdoc />
    public override Task<JsonRpcResponse> SendRequestAsync(JsonRpcRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_session.Server is not { } sessionServer)
        {
            throw new McpException(
                $"A tool that answers by webhook cannot send '{request.Method}' to a sessionless client (protocol revision 2026-07-28): " +
                "there is no session to carry the client's answer back.");
        }

        // The session's server matches the client's answer (a POST on the session) to this request by its id.
        request.Context = new JsonRpcMessageContext { RelatedTransport = _transport };
        return sessionServer.SendRequestAsync(request, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The session's server belongs to the session; nothing is disposed here.</remarks>
    public override ValueTask DisposeAsync() => default;
}
#pragma warning restore MCPEXP002
