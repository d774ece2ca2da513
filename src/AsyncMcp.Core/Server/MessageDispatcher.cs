using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// Serves many MCP clients from one inbound stream of messages: decides for each message which session it belongs to
/// (opening one for <c>initialize</c>, a per-client context for a session-less 2026-07-28 request), hands requests to
/// their session each with its own <see cref="RequestTransport"/>, and has bad input answered by <see cref="Rejections"/>.
/// </summary>
internal sealed partial class MessageDispatcher : IAsyncDisposable
{
    private readonly AsyncMcpServerTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly DispatchContext _context;
    private readonly SessionTable _sessions;
    private readonly Rejections _rejections;
    private readonly RequestIntake _intake;
    private readonly SessionOpener _opener;
    private readonly SessionMaintenance _maintenance;
    private readonly HashSet<string> _supportedVersions;
    private readonly ILogger _logger;
    private volatile bool _draining;
    private DateTimeOffset? _drainEnds;
    private int _stopped;

    public MessageDispatcher(
        IMessageSink sink,
        ReplyAddressConvention convention,
        AsyncMcpServerTransportOptions options,
        McpServerOptions serverOptions,
        InboundEndpoint endpoint,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        TimeProvider? timeProvider = null,
        ISessionPlacement? placement = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(convention);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        ArgumentNullException.ThrowIfNull(endpoint);
        options.Validate();
        _options = options;
        _logger = loggerFactory?.CreateLogger<MessageDispatcher>() ?? NullLogger<MessageDispatcher>.Instance;
        var time = timeProvider ?? TimeProvider.System;
        _time = time;
        var answers = new AnswerCache(options.DuplicateWindow, options.MaxRememberedAnswers, time);
        _context = new DispatchContext(sink, endpoint, answers, new InFlightLimiter(options.MaxConcurrentRequests), time, loggerFactory, (session, reason) => CloseAsync(session, reason, completeUnanswered: true), placement);
        _sessions = new SessionTable(options.MaxSessions, _context.Metrics.SessionsChanged);
        _rejections = new Rejections(_context, convention, _logger);
        _intake = new RequestIntake(_context, _rejections, HasSession, _logger);
        _opener = new SessionOpener(_context, _sessions, _rejections, _intake, options, serverOptions, services, () => _draining, _logger);
        _maintenance = new SessionMaintenance(_sessions, answers, options.SessionIdleTimeout, time, session => CloseAsync(session, "idle timeout", completeUnanswered: false), _logger);
        _supportedVersions = new HashSet<string>(options.SupportedProtocolVersions, StringComparer.Ordinal);
    }

    /// <summary>Counts requests in flight; a receive loop waits on it before taking more work.</summary>
    public InFlightLimiter Limiter => _context.Limiter;

    /// <summary>The sessions held now, including per-client contexts of session-less requests.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>The requests received and not yet answered.</summary>
    public int PendingRequestCount => _context.Limiter.Count;

    /// <summary>The answers remembered to answer redelivered requests again.</summary>
    public int RememberedAnswerCount => _context.Answers.Count;

    /// <summary>Starts idle-session expiry.</summary>
    public void Start() => _maintenance.Start();

    /// <summary>Handles one message received from a source that hands over the raw body.</summary>
    public Task<string?> DispatchAsync(IInboundMessage message, CancellationToken cancellationToken = default) =>
        DispatchAsync(message, JsonRpcCodec.Decode(message.Body), _context.Endpoint.Description, cancellationToken);

    /// <summary>Handles one message received from another source than the endpoint's own (a worker's own queue), named for traces.</summary>
    public Task<string?> DispatchAsync(IInboundMessage message, string receivedFrom, CancellationToken cancellationToken = default) =>
        DispatchAsync(message, JsonRpcCodec.Decode(message.Body), receivedFrom, cancellationToken);

    /// <summary>
    /// Handles one message, already decoded, and returns once it has been routed (not once it has been answered): the id
    /// of the session it went to (for an <c>initialize</c>, the one it opened), or <see langword="null"/>.
    /// </summary>
    public Task<string?> DispatchAsync(IInboundMessage message, DecodeResult decoded, CancellationToken cancellationToken = default) =>
        DispatchAsync(message, decoded, _context.Endpoint.Description, cancellationToken);

    private async Task<string?> DispatchAsync(IInboundMessage message, DecodeResult decoded, string receivedFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        using var activity = Diagnostics.AsyncMcpTelemetry.StartProcess(_context.Endpoint.MessagingSystem, receivedFrom, message.MessageId, message.ReceiveCount);
        Diagnostics.AsyncMcpTelemetry.Describe(activity, method, sessionId);
        _context.Metrics.MessageReceived(message.SentAt, _time.GetUtcNow());

        var session = string.IsNullOrEmpty(sessionId) ? null : _sessions.Find(SessionKey.ForSession(sessionId));
        if (decoded.Message is not { } rpc)
        {
            await _rejections.RejectUndecodableAsync(message, decoded, sessionId, clientId, session?.ReplyAddress, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (rpc is JsonRpcRequest versioned && message.Attributes.TryGetValue(WireAttributes.ProtocolVersion, out var version) && !_supportedVersions.Contains(version))
        {
            var error = JsonRpcErrors.UnsupportedProtocolVersion(versioned.Id, version, [.. _options.SupportedProtocolVersions]);
            await _rejections.RejectAsync(message, error, _rejections.ErrorAddressFor(versioned, sessionId, session), sessionId, clientId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (rpc is JsonRpcRequest { Method: RequestMethods.Initialize } initialize)
        {
            return await _opener.OpenAsync(message, initialize, clientId, cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(sessionId))
        {
            await ToSessionAsync(message, rpc, session, sessionId, clientId, cancellationToken).ConfigureAwait(false);
            return sessionId;
        }

        await SessionlessAsync(message, rpc, clientId, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Whether a session with this id is open.</summary>
    public bool HasSession(string sessionId) => !string.IsNullOrEmpty(sessionId) && _sessions.Find(SessionKey.ForSession(sessionId)) is not null;

    /// <summary>Where an open session's messages go; <see langword="null"/> if it is not open.</summary>
    public string? GetReplyAddress(string sessionId) => string.IsNullOrEmpty(sessionId) ? null : _sessions.Find(SessionKey.ForSession(sessionId))?.ReplyAddress;

    /// <summary>Closes a session at its client's request (an HTTP <c>DELETE</c>): its running requests are cancelled and nothing more is sent to it.</summary>
    /// <returns><see langword="true"/> if the session was open.</returns>
    public async Task<bool> CloseSessionAsync(string sessionId, string reason) =>
        _sessions.Find(SessionKey.ForSession(sessionId)) is { } session && await CloseAsync(session, reason, completeUnanswered: true).ConfigureAwait(false);

    /// <summary>Waits until no request is in flight, <paramref name="timeout"/> passes, or <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <returns><see langword="true"/> if every request finished in time.</returns>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await Limiter.WaitForDrainAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops taking work (the server is stopping): a new session, or a new request, is refused with a clear error
    /// (reason <c>server_stopping</c>), while what concerns work in flight (a cancellation, the client's answer to a
    /// request of the server) still reaches its session.
    /// </summary>
    public void BeginDrain()
    {
        if (!_draining)
        {
            _drainEnds = _time.GetUtcNow() + _options.ShutdownDrainTimeout;
            _draining = true;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>
    /// Drains requests in flight up to <see cref="AsyncMcpServerTransportOptions.ShutdownDrainTimeout"/>, then closes every
    /// session at once, handing the messages of unfinished requests back to the broker; <paramref name="cancellationToken"/>
    /// (a host's stop token) cuts the waits short. Idempotent; never throws.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        // One drain timeout in all: a stop that began draining earlier (BeginDrain) waits only for what is left of it.
        var drainFor = _drainEnds is { } ends ? ends - _time.GetUtcNow() : _options.ShutdownDrainTimeout;
        if (!await DrainAsync(drainFor > TimeSpan.Zero ? drainFor : TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
        {
            LogDrainTimedOut(Limiter.Count, _options.ShutdownDrainTimeout.TotalSeconds, _context.Endpoint.Redelivers ? "their messages go back to the broker" : "they are handed back to their source, which does not deliver them again (a webhook endpoint tells each client)");
        }

        await _maintenance.DisposeAsync().ConfigureAwait(false);

        // A stuck tool costs its own session's stop timeout, not everyone's; unfinished requests go back now, not when their leases end.
        await Task.WhenAll(_sessions.All.ToArray().Select(session => CloseAsync(session, "server shutting down", completeUnanswered: false, tellClient: true, cancellationToken))).ConfigureAwait(false);
    }

    private async Task ToSessionAsync(IInboundMessage message, JsonRpcMessage rpc, ServerSession? session, string sessionId, string? clientId, CancellationToken cancellationToken)
    {
        if (session is null)
        {
            var handover = _context.Placement is { } placement
                ? await placement.HandOverAsync(sessionId, message, cancellationToken).ConfigureAwait(false)
                : Handover.NotElsewhere;
            if (handover == Handover.HandedOver)
            {
                return;
            }

            if (rpc is JsonRpcRequest request)
            {
                // Delivered again for a session this server never had, or the worker holding it is gone: it was lost.
                var error = message.ReceiveCount > 1 || handover == Handover.HolderGone
                    ? JsonRpcErrors.Create(request.Id, McpErrorCode.InvalidRequest, $"Session '{sessionId}' was lost: the server that held it stopped; start a new session with initialize.", ErrorReasons.SessionLost)
                    : JsonRpcErrors.Create(request.Id, McpErrorCode.InvalidRequest, $"Session '{sessionId}' is unknown or has expired; start a new session with initialize.", ErrorReasons.SessionNotFound);
                await _rejections.RejectAsync(message, error, _rejections.ErrorAddressFor(request, sessionId, null), sessionId, clientId, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LogUnknownSession(message.MessageId, sessionId, Describe(rpc));
                await message.CompleteQuietlyAsync(_logger, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        session.Touch();
        if (rpc is JsonRpcRequest sessionRequest)
        {
            if (_draining)
            {
                await _rejections.RefuseStoppingAsync(message, sessionRequest, _rejections.ErrorAddressFor(sessionRequest, sessionId, session), sessionId, clientId, cancellationToken).ConfigureAwait(false);
                return;
            }

            await _intake.AcceptAsync(session, session.Key, message, sessionRequest, StringComparer.Ordinal.GetHashCode(message.Body), session.ReplyAddress, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (rpc is JsonRpcNotification { Method: WireMethods.SessionClose })
        {
            await CloseAsync(session, "closed by the client", completeUnanswered: true, tellClient: false, CancellationToken.None).ConfigureAwait(false);

            // Closing can outlast a server stop (a session's handlers may take a moment to end), which cancels the routing
            // token: the close message is still deleted, or it would come back to a server without the session.
            using var settle = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await message.CompleteQuietlyAsync(_logger, settle.Token).ConfigureAwait(false);
            return;
        }

        await _intake.PassOnAsync(session, rpc, cancellationToken).ConfigureAwait(false);
        await message.CompleteQuietlyAsync(_logger, cancellationToken).ConfigureAwait(false);
    }

    private async Task SessionlessAsync(IInboundMessage message, JsonRpcMessage rpc, string? clientId, CancellationToken cancellationToken)
    {
        if (rpc is JsonRpcRequest request)
        {
            if (_rejections.ReadReplyAddress(message, request) is not { } replyAddress)
            {
                await _rejections.DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (_draining)
            {
                await _rejections.RefuseStoppingAsync(message, request, replyAddress, null, clientId, cancellationToken).ConfigureAwait(false);
                return;
            }

            var key = SessionKey.ForSessionless(clientId, replyAddress);
            if (_sessions.GetOrAdd(key, () => _opener.Create(key, null, clientId, replyAddress, null)) is not { } context)
            {
                await _rejections.RefuseAtLimitAsync(message, request, replyAddress, clientId, _options.MaxSessions, cancellationToken).ConfigureAwait(false);
                return;
            }

            context.ReplyAddress = replyAddress;
            context.Touch();
            await _intake.AcceptAsync(context, context.Key, message, request, StringComparer.Ordinal.GetHashCode(message.Body), replyAddress, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A notification or response without a session belongs to its client's context (a cancellation, say); without one it has nowhere to go.
        if (!string.IsNullOrEmpty(clientId) && _sessions.Find(new SessionKey(SessionKeyKind.Client, clientId)) is { } owner)
        {
            owner.Touch();
            await _intake.PassOnAsync(owner, rpc, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            LogUnroutable(message.MessageId, Describe(rpc), clientId ?? "(none)");
        }

        await message.CompleteQuietlyAsync(_logger, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> CloseAsync(ServerSession session, string reason, bool completeUnanswered, bool tellClient = false, CancellationToken stopWaiting = default)
    {
        _sessions.Remove(session);
        return await session.CloseAsync(reason, completeUnanswered, tellClient, stopWaiting).ConfigureAwait(false);
    }

    private static string Describe(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => $"request '{request.Method}'",
        JsonRpcNotification notification => $"notification '{notification.Method}'",
        JsonRpcResponse => "response",
        _ => "error response",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Kind} for unknown or expired session {SessionId} dropped.")]
    private partial void LogUnknownSession(string messageId, string sessionId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Kind} without a session from client {ClientId} has no context to go to; dropped.")]
    private partial void LogUnroutable(string messageId, string kind, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} requests were still in flight after {Seconds:F1} s; {Outcome}.")]
    private partial void LogDrainTimedOut(int count, double seconds, string outcome);
}
