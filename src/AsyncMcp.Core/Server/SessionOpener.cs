using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// Opens sessions: an <c>initialize</c> gets a session with a server-minted id (naming this worker when several serve
/// the queue), unless it is a copy of one that already opened a session; a session-less client gets its context.
/// </summary>
internal sealed partial class SessionOpener(
    DispatchContext context,
    SessionTable sessions,
    Rejections rejections,
    RequestIntake intake,
    AsyncMcpServerTransportOptions options,
    McpServerOptions serverOptions,
    IServiceProvider? services,
    Func<bool> draining,
    ILogger logger)
{
    public async Task<string?> OpenAsync(IInboundMessage message, JsonRpcRequest request, string? clientId, CancellationToken cancellationToken)
    {
        if (rejections.ReadReplyAddress(message, request) is not { } replyAddress)
        {
            await rejections.DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // A copy or redelivery of an initialize must not open a second session: it is known by its client.
        var initializeKey = SessionKey.ForInitialize(clientId, replyAddress);
        var fingerprint = StringComparer.Ordinal.GetHashCode(message.Body);
        if (await intake.TryAnswerAgainAsync(message, initializeKey, request.Id, fingerprint, cancellationToken).ConfigureAwait(false) is { } answered)
        {
            return answered.Attributes.TryGetValue(WireAttributes.SessionId, out var answeredSession) ? answeredSession : null;
        }

        if (sessions.FindOpenedBy(initializeKey) is { } opened && opened.FindRequest(request.Id) is { } running && running.CacheKey == initializeKey)
        {
            await intake.OnDuplicateAsync(opened, running, message, request, fingerprint, cancellationToken).ConfigureAwait(false);
            return opened.SessionId;
        }

        if (draining())
        {
            await rejections.RefuseStoppingAsync(message, request, replyAddress, null, clientId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // The server mints the id; any SessionId the client put on an initialize is ignored (no session fixation).
        var sessionId = context.Placement?.NewSessionId() ?? Guid.NewGuid().ToString("N");
        var session = sessions.GetOrAdd(SessionKey.ForSession(sessionId), () => Create(SessionKey.ForSession(sessionId), sessionId, clientId, replyAddress, initializeKey), initializeKey);
        if (session is null)
        {
            await rejections.RefuseAtLimitAsync(message, request, replyAddress, clientId, options.MaxSessions, cancellationToken).ConfigureAwait(false);
            return null;
        }

        session.ClientUnderstandsClose = SessionCloseSupport.IsDeclared(request);
        LogSessionCreated(sessionId, clientId ?? "(none)");
        await intake.AcceptAsync(session, initializeKey, message, request, fingerprint, replyAddress, cancellationToken).ConfigureAwait(false);
        return sessionId;
    }

    /// <summary>Creates and starts a session or session-less context.</summary>
    public ServerSession Create(SessionKey key, string? sessionId, string? clientId, string replyAddress, SessionKey? initializeKey)
    {
        var session = new ServerSession(key, sessionId, clientId, replyAddress, initializeKey, context);
        session.Start(serverOptions, options.RunSessionHandler, services);
        return session;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} created for client {ClientId}.")]
    private partial void LogSessionCreated(string sessionId, string clientId);
}
