using System.Collections.Concurrent;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// Serves many MCP clients from one inbound stream of messages: creates one <see cref="McpServer"/> per session,
/// routes each message to its session, sends every answer to the right reply address, and answers bad input
/// with a JSON-RPC error instead of failing.
/// </summary>
/// <remarks>
/// <para>
/// Protocol revision 2025-11-25 and earlier: <c>initialize</c> opens a session with a server-minted id; later
/// messages carry it in the <see cref="WireAttributes.SessionId"/> attribute. Revision 2026-07-28: requests
/// carry no session; each names its own reply address and is served by a per-client context (keyed by the
/// <see cref="WireAttributes.ClientId"/> attribute) so that JSON-RPC ids of different clients never collide.
/// </para>
/// <para>
/// A request's broker message is completed (removed from the broker) only after its answer has been handed to
/// the broker; until then it counts against <see cref="AsyncMcpServerTransportOptions.MaxConcurrentRequests"/>
/// and its lease is renewed.
/// </para>
/// </remarks>
public sealed partial class McpSessionRouter : IAsyncDisposable
{
    private const string ClientKeyPrefix = "client:";
    private const string ReplyKeyPrefix = "reply:";
    private const string InitializeKeyPrefix = "init:";
    private static readonly TimeSpan s_sessionStopTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, RoutedSession> _sessions = new(StringComparer.Ordinal);
    private readonly object _sessionGate = new();
    private readonly IMessageSink _sink;
    private readonly ReplyAddressConvention _convention;
    private readonly AsyncMcpServerTransportOptions _options;
    private readonly McpServerOptions _serverOptions;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly IServiceProvider? _services;
    private readonly TimeProvider _time;
    private readonly TimeSpan? _leaseDuration;
    private readonly ILogger _logger;
    private readonly PendingRequests _pending;
    private readonly AnswerCache _answers;
    private readonly HashSet<string> _supportedVersions;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _maintenance;
    private int _disposed;

    /// <summary>Creates a router.</summary>
    /// <param name="sink">Sends replies.</param>
    /// <param name="convention">Where requests carry their reply address.</param>
    /// <param name="options">Session and back-pressure settings; validated here.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources), shared by every session.</param>
    /// <param name="leaseDuration">How long the broker keeps a received message invisible, so leases can be renewed; <see langword="null"/> for sources without leases.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider the MCP servers resolve tool dependencies from.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> by default.</param>
    public McpSessionRouter(
        IMessageSink sink,
        ReplyAddressConvention convention,
        AsyncMcpServerTransportOptions options,
        McpServerOptions serverOptions,
        TimeSpan? leaseDuration = null,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(convention);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();

        _sink = sink;
        _convention = convention;
        _options = options;
        _serverOptions = serverOptions;
        _leaseDuration = leaseDuration;
        _loggerFactory = loggerFactory;
        _services = services;
        _time = timeProvider ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger<McpSessionRouter>() ?? NullLogger<McpSessionRouter>.Instance;
        Limiter = new InFlightLimiter(options.MaxConcurrentRequests);
        _pending = new PendingRequests(Limiter);
        _answers = new AnswerCache(options.DuplicateWindow, options.MaxRememberedAnswers, _time);
        _supportedVersions = new HashSet<string>(options.SupportedProtocolVersions, StringComparer.Ordinal);
    }

    /// <summary>The <c>messaging.system</c> of process spans, such as <c>aws_sqs</c>.</summary>
    public string MessagingSystem { get; set; } = "asyncmcp";

    /// <summary>Names the inbound endpoint (a queue URL, an HTTP path) on process spans.</summary>
    public string SourceDescription { get; set; } = "asyncmcp";

    /// <summary>Counts requests in flight; a receive loop waits on it before taking more work.</summary>
    public InFlightLimiter Limiter { get; }

    /// <summary>The sessions held now, including per-client contexts of session-less requests.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>The requests received and not yet answered.</summary>
    public int PendingRequestCount => _pending.Count;

    /// <summary>The answers remembered to answer redelivered requests again.</summary>
    public int RememberedAnswerCount => _answers.Count;

    /// <summary>
    /// Whether the source has a dead-letter queue: then input that can be neither processed nor answered (a body
    /// that is not JSON with no known sender, a request without a reply address) is handed back to the broker, so
    /// that its redrive policy moves it to the dead-letter queue intact, instead of being deleted after logging.
    /// </summary>
    public bool LeaveUnprocessableToRedrive { get; set; }

    /// <summary>
    /// Whether a session is closed once a message to it could finally not be sent (after the sink's retries). Set
    /// for transports without redelivery (webhooks), where such a session can never hear from the server again.
    /// </summary>
    public bool CloseSessionWhenDeliveryFails { get; set; }

    /// <summary>
    /// Whether a request that belongs to a session may name a reply address of its own for the errors the server sends
    /// it (default <see langword="true"/>). Queue transports need it: a request redelivered to a server that never had
    /// its session must still hear that the session was lost. Webhook servers turn it off, because a client's reply
    /// address is checked against their policy only when a session opens (or with a session-less request): a request of
    /// a session is then answered only where its session is, and when that session is gone its message is handed back
    /// to its source, which tells the sender at the address it checked.
    /// </summary>
    public bool SessionRequestsMayNameReplyAddress { get; set; } = true;

    /// <summary>
    /// Whether the source delivers a message again that was handed back or never completed, as a queue does once a lease
    /// ends (default <see langword="true"/>). A webhook endpoint's pushed messages are never delivered again (the
    /// endpoint tells the client instead); the logs then say so rather than promise a redelivery.
    /// </summary>
    public bool SourceRedelivers { get; set; } = true;

    /// <summary>Starts the background work: lease renewal and idle-session expiry.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _maintenance ??= Task.Run(() => RunMaintenanceAsync(_stopping.Token));
    }

    /// <summary>Handles one inbound message. Returns once the message has been routed (not once it has been answered).</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels routing.</param>
    /// <returns>A task that completes when the message has been routed or answered with an error.</returns>
    public Task HandleAsync(IInboundMessage message, CancellationToken cancellationToken = default) => RouteAsync(message, cancellationToken);

    /// <summary>
    /// Handles one inbound message like <see cref="HandleAsync"/>, and tells which session it went to: for an
    /// <c>initialize</c>, the id of the session it opened (or re-answered), so that a transport that answers at once
    /// (an HTTP endpoint) can return it.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels routing.</param>
    /// <returns>The session id the message was routed to, or <see langword="null"/> when it had none or was rejected.</returns>
    public async Task<string?> RouteAsync(IInboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        using var activity = Diagnostics.AsyncMcpTelemetry.StartProcess(MessagingSystem, SourceDescription, message.MessageId, message.ReceiveCount);
        Diagnostics.AsyncMcpTelemetry.Describe(activity, method, sessionId);

        var decoded = JsonRpcCodec.Decode(message.Body);
        if (!decoded.IsSuccess)
        {
            await RejectUndecodableAsync(message, decoded, sessionId, clientId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var rpc = decoded.Message!;
        if (rpc is JsonRpcRequest versionedRequest &&
            message.Attributes.TryGetValue(WireAttributes.ProtocolVersion, out var version) &&
            !_supportedVersions.Contains(version))
        {
            var error = JsonRpcErrors.Create(
                versionedRequest.Id,
                McpErrorCode.UnsupportedProtocolVersion,
                $"Protocol version '{version}' is not supported; this server supports {string.Join(", ", _options.SupportedProtocolVersions)}.",
                ErrorReasons.UnsupportedProtocolVersion);
            await RejectAsync(message, error, ReplyAddressFor(versionedRequest, sessionId), sessionId, clientId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (rpc is JsonRpcRequest { Method: RequestMethods.Initialize } initialize)
        {
            return await HandleInitializeAsync(message, initialize, clientId, cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(sessionId))
        {
            await HandleSessionMessageAsync(message, rpc, sessionId, clientId, cancellationToken).ConfigureAwait(false);
            return sessionId;
        }

        await HandleSessionlessMessageAsync(message, rpc, clientId, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Whether a session with this id is open.</summary>
    /// <param name="sessionId">The server-minted session id.</param>
    /// <returns><see langword="true"/> if the session is open.</returns>
    public bool HasSession(string sessionId) =>
        !string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(sessionId, out var session) && !session.IsClosed && session.SessionId is not null;

    /// <summary>Where an open session's messages go.</summary>
    /// <param name="sessionId">The server-minted session id.</param>
    /// <returns>The session's reply address, or <see langword="null"/> if the session is not open.</returns>
    public string? GetReplyAddress(string sessionId) =>
        HasSession(sessionId) ? _sessions[sessionId].ReplyAddress : null;

    /// <summary>
    /// Closes a session at its client's request (an HTTP <c>DELETE</c>, for example): its running requests are
    /// cancelled and nothing more is sent to it.
    /// </summary>
    /// <param name="sessionId">The server-minted session id.</param>
    /// <param name="reason">Why, for the log.</param>
    /// <returns><see langword="true"/> if the session was open.</returns>
    public async Task<bool> CloseSessionAsync(string sessionId, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        if (!HasSession(sessionId) || !_sessions.TryGetValue(sessionId, out var session))
        {
            return false;
        }

        await CloseSessionAsync(session, reason, completeUnanswered: true).ConfigureAwait(false);
        return true;
    }

    /// <summary>Waits until no request is in flight, or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">How long to wait at most.</param>
    /// <returns><see langword="true"/> if every request finished in time.</returns>
    public Task<bool> DrainAsync(TimeSpan timeout) => DrainAsync(timeout, CancellationToken.None);

    /// <summary>Waits until no request is in flight, <paramref name="timeout"/> passes, or <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns><see langword="true"/> if every request finished in time.</returns>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
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
    /// Drains requests in flight up to <see cref="AsyncMcpServerTransportOptions.ShutdownDrainTimeout"/>, hands the
    /// messages of unfinished requests back to the broker, and closes every session. Never throws.
    /// </summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>
    /// Stops like <see cref="DisposeAsync"/>, with <paramref name="cancellationToken"/> (a host's stop token) cutting
    /// the waits short: the drain, and sessions whose handlers do not stop. Never throws.
    /// </summary>
    /// <param name="cancellationToken">When cancelled, nothing more is waited for.</param>
    /// <returns>A task that completes when everything is closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var drained = await DrainAsync(_options.ShutdownDrainTimeout, cancellationToken).ConfigureAwait(false);
        if (!drained)
        {
            if (SourceRedelivers)
            {
                LogDrainTimedOut(_pending.Count, _options.ShutdownDrainTimeout.TotalSeconds);
            }
            else
            {
                LogDrainTimedOutNotRedelivered(_pending.Count, _options.ShutdownDrainTimeout.TotalSeconds);
            }
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_maintenance is not null)
        {
            await _maintenance.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Close every session at once (a stuck tool costs its own session's stop timeout, not everyone's); their
        // unfinished requests go back to the broker now rather than when their leases end, so another server takes them.
        await Task.WhenAll(_sessions.Values.ToArray().Select(session => CloseSessionAsync(session, "server shutting down", stopWaiting: cancellationToken))).ConfigureAwait(false);
        var left = new List<IInboundMessage>();
        foreach (var pending in _pending.Snapshot.ToArray())
        {
            if (_pending.Remove(pending.SessionKey, pending.Id) is { } inbound)
            {
                left.Add(inbound);
            }
        }

        // All at once: handing a message back can take a broker round trip (or, for a pushed message, telling its sender).
        await Task.WhenAll(left.Select(inbound => ReleaseQuietlyAsync(inbound, CancellationToken.None))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task<string?> HandleInitializeAsync(IInboundMessage message, JsonRpcRequest request, string? clientId, CancellationToken cancellationToken)
    {
        var replyAddress = ReadReplyAddress(message, request);
        if (replyAddress is null)
        {
            await DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
            return null;
        }

        // A copy or redelivery of an initialize must not open a second session: it is tracked per client.
        var initializeKey = InitializeKeyPrefix + (string.IsNullOrEmpty(clientId) ? replyAddress : clientId);
        var fingerprint = StringComparer.Ordinal.GetHashCode(message.Body);
        if (await TryAnswerAgainAsync(message, initializeKey, request.Id, fingerprint, cancellationToken, SessionStillOpen).ConfigureAwait(false))
        {
            return _answers.TryGet(initializeKey, request.Id, fingerprint, out _, out var again) &&
                again.Attributes.TryGetValue(WireAttributes.SessionId, out var answeredSession) ? answeredSession : null;
        }

        if (_pending.Find(initializeKey, request.Id) is not null)
        {
            LogDuplicateInFlight(message.MessageId, initializeKey, request.Id);
            await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
            return _sessions.Values.FirstOrDefault(s => s.InitializeKey == initializeKey && !s.IsClosed)?.SessionId;
        }

        // The server mints the id; any SessionId the client put on an initialize is ignored (no session fixation).
        var sessionId = Guid.NewGuid().ToString("N");
        var session = TryCreateSession(sessionId, sessionId, clientId, replyAddress, initializeKey);
        if (session is null)
        {
            var error = JsonRpcErrors.Create(
                request.Id,
                McpErrorCode.InvalidRequest,
                $"The server already holds its maximum of {_options.MaxSessions} sessions; try again later.",
                ErrorReasons.SessionLimitReached);
            await RejectAsync(message, error, replyAddress, null, clientId, cancellationToken).ConfigureAwait(false);
            return null;
        }

        LogSessionCreated(sessionId, clientId ?? "(none)");
        await TrackAndDeliverAsync(session, initializeKey, message, request, fingerprint, cancellationToken).ConfigureAwait(false);
        return sessionId;
    }

    private async Task HandleSessionMessageAsync(IInboundMessage message, JsonRpcMessage rpc, string sessionId, string? clientId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var session) || session.IsClosed)
        {
            if (rpc is JsonRpcRequest request)
            {
                // A request delivered again for a session this server never had: the server that held it stopped.
                var error = message.ReceiveCount > 1
                    ? JsonRpcErrors.Create(
                        request.Id,
                        McpErrorCode.InvalidRequest,
                        $"Session '{sessionId}' was lost: the server that held it stopped before answering this request; start a new session with initialize.",
                        ErrorReasons.SessionLost)
                    : JsonRpcErrors.Create(
                        request.Id,
                        McpErrorCode.InvalidRequest,
                        $"Session '{sessionId}' is unknown or has expired; start a new session with initialize.",
                        ErrorReasons.SessionNotFound);
                await RejectAsync(message, error, ReplyAddressFor(request, sessionId), sessionId, clientId, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LogUnknownSession(message.MessageId, sessionId, DescribeKind(rpc));
                await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        session.Touch(_time.GetUtcNow());
        if (rpc is JsonRpcNotification { Method: WireMethods.SessionClose })
        {
            await CloseSessionAsync(session, "closed by the client", completeUnanswered: true, stopWaiting: CancellationToken.None).ConfigureAwait(false);

            // Closing can outlast a server stop (a session's handlers may take a moment to end), which cancels the
            // routing token: the close message is still deleted, or it would come back to a server without the session.
            using var settle = new CancellationTokenSource(s_sessionStopTimeout);
            await CompleteQuietlyAsync(message, settle.Token).ConfigureAwait(false);
            return;
        }

        if (rpc is JsonRpcRequest sessionRequest)
        {
            await DeliverRequestAsync(session, message, sessionRequest, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await session.Transport.DeliverAsync(rpc, cancellationToken).ConfigureAwait(false);
            await ForgetCancelledRequestAsync(session, rpc, cancellationToken).ConfigureAwait(false);
            await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The SDK sends no answer to a request its client cancelled, so the request's message is completed here:
    /// otherwise it would stay in flight until shutdown and then be delivered to the next server and run again.
    /// </summary>
    private async Task ForgetCancelledRequestAsync(RoutedSession session, JsonRpcMessage rpc, CancellationToken cancellationToken)
    {
        if (rpc is not JsonRpcNotification { Method: NotificationMethods.CancelledNotification } notification ||
            notification.Params is not System.Text.Json.Nodes.JsonObject parameters ||
            parameters["requestId"] is not System.Text.Json.Nodes.JsonValue idValue)
        {
            return;
        }

        RequestId id;
        if (idValue.TryGetValue<string>(out var text))
        {
            id = new RequestId(text);
        }
        else if (idValue.TryGetValue<long>(out var number))
        {
            id = new RequestId(number);
        }
        else
        {
            return;
        }

        if (_pending.Remove(TrackingKey(session, id), id) is { } inbound)
        {
            LogCancelledRequestCompleted(inbound.MessageId, session.Key, id);
            await CompleteQuietlyAsync(inbound, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleSessionlessMessageAsync(IInboundMessage message, JsonRpcMessage rpc, string? clientId, CancellationToken cancellationToken)
    {
        if (rpc is JsonRpcRequest request)
        {
            var replyAddress = ReadReplyAddress(message, request);
            if (replyAddress is null)
            {
                await DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }

            var key = string.IsNullOrEmpty(clientId) ? ReplyKeyPrefix + replyAddress : ClientKeyPrefix + clientId;
            if (!_sessions.TryGetValue(key, out var context) || context.IsClosed)
            {
                context = TryCreateSession(key, null, clientId, replyAddress);
                if (context is null)
                {
                    var error = JsonRpcErrors.Create(
                        request.Id,
                        McpErrorCode.InvalidRequest,
                        $"The server already serves its maximum of {_options.MaxSessions} sessions and clients; try again later.",
                        ErrorReasons.SessionLimitReached);
                    await RejectAsync(message, error, replyAddress, null, clientId, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }

            context.ReplyAddress = replyAddress;
            context.Touch(_time.GetUtcNow());
            var target = context;
            request.Context ??= new JsonRpcMessageContext();
            request.Context.RelatedTransport = new ReplyTransport((reply, address, ct) => SendAsync(target, reply, address, ct), replyAddress);
            await DeliverRequestAsync(context, message, request, cancellationToken).ConfigureAwait(false);
            return;
        }

        // A notification or response without a session belongs to the per-client context of session-less requests
        // (a cancellation, for example). Without one it has nowhere to go.
        if (!string.IsNullOrEmpty(clientId) && _sessions.TryGetValue(ClientKeyPrefix + clientId, out var owner) && !owner.IsClosed)
        {
            owner.Touch(_time.GetUtcNow());
            await owner.Transport.DeliverAsync(rpc, cancellationToken).ConfigureAwait(false);
            await ForgetCancelledRequestAsync(owner, rpc, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            LogUnroutable(message.MessageId, DescribeKind(rpc), clientId ?? "(none)");
        }

        await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private async Task DeliverRequestAsync(RoutedSession session, IInboundMessage message, JsonRpcRequest request, CancellationToken cancellationToken)
    {
        var fingerprint = StringComparer.Ordinal.GetHashCode(message.Body);
        if (await TryAnswerAgainAsync(message, session.Key, request.Id, fingerprint, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        await TrackAndDeliverAsync(session, session.Key, message, request, fingerprint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>If this request was answered within the duplicate window, sends the same answer again instead of running it again.</summary>
    private async Task<bool> TryAnswerAgainAsync(IInboundMessage message, string trackingKey, RequestId id, int fingerprint, CancellationToken cancellationToken, Func<OutboundMessage, bool>? stillValid = null)
    {
        if (!_answers.TryGet(trackingKey, id, fingerprint, out var answeredAt, out var answer) || stillValid?.Invoke(answer) == false)
        {
            return false;
        }

        LogAnsweredAgain(message.MessageId, trackingKey, id, message.ReceiveCount);
        try
        {
            await _sink.SendAsync(answeredAt, answer, cancellationToken).ConfigureAwait(false);
            await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Still not delivered: the message stays on the broker for another attempt, then its redrive policy.
            LogAnswerSendFailed(trackingKey, id, answeredAt, ex);
        }

        return true;
    }

    private async Task TrackAndDeliverAsync(RoutedSession session, string trackingKey, IInboundMessage message, JsonRpcRequest request, int fingerprint, CancellationToken cancellationToken)
    {
        var leaseExpires = _leaseDuration is { } lease ? _time.GetUtcNow() + lease : DateTimeOffset.MaxValue;
        if (!_pending.TryAdd(trackingKey, request.Id, message, fingerprint, leaseExpires))
        {
            await HandleDuplicateInFlightAsync(session, trackingKey, message, request, fingerprint, leaseExpires, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await session.Transport.DeliverAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (_pending.Remove(trackingKey, request.Id) is { } undone)
        {
            // Not handed over (stopping, most likely): the message goes back to the broker as it was.
            await ReleaseQuietlyAsync(undone, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        if (!session.Transport.IsConnected && _pending.Remove(trackingKey, request.Id) is { } dropped)
        {
            // The session closed between routing and delivery (idle expiry, a close message) and the SDK dropped the
            // request: hand it back to be routed afresh rather than leave it in flight forever.
            if (SourceRedelivers)
            {
                LogClosedWhileRouting(dropped.MessageId, session.Key);
            }
            else
            {
                LogClosedWhileRoutingNotRedelivered(dropped.MessageId, session.Key);
            }

            await ReleaseQuietlyAsync(dropped, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task HandleDuplicateInFlightAsync(RoutedSession session, string trackingKey, IInboundMessage message, JsonRpcRequest request, int fingerprint, DateTimeOffset leaseExpires, CancellationToken cancellationToken)
    {
        var running = _pending.Find(trackingKey, request.Id);
        if (running is not null && running.Fingerprint != fingerprint)
        {
            // Another request reusing the id of one that is still running: refuse it rather than drop it.
            var error = JsonRpcErrors.Create(
                request.Id,
                McpErrorCode.InvalidRequest,
                $"Request id '{request.Id}' is already in use by a request that is still running; use a new id.",
                ErrorReasons.InvalidMessage);
            await RejectAsync(message, error, ReplyAddressFor(request, session.SessionId, session), session.SessionId, session.ClientId, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (running is not null && running.Message.MessageId == message.MessageId)
        {
            // The broker handed out the same message again (its lease was lost): keep it with its new receipt, so
            // the answer still deletes it.
            running.Message = message;
            running.LeaseExpires = leaseExpires;
            running.LeaseLost = false;
            LogRedeliveredWhileRunning(message.MessageId, trackingKey, request.Id);
            return;
        }

        // A copy (another message, same request) while the original runs: run it once.
        LogDuplicateInFlight(message.MessageId, trackingKey, request.Id);
        await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private RoutedSession? TryCreateSession(string key, string? sessionId, string? clientId, string replyAddress, string? initializeKey = null)
    {
        lock (_sessionGate)
        {
            if (_sessions.TryGetValue(key, out var existing) && !existing.IsClosed)
            {
                return existing;
            }

            if (_sessions.Count >= _options.MaxSessions)
            {
                LogSessionLimitReached(_options.MaxSessions);
                return null;
            }

            var session = new RoutedSession(key, sessionId, clientId, replyAddress, _time.GetUtcNow()) { InitializeKey = initializeKey };
            session.Transport = new RoutedServerTransport(
                sessionId is null ? $"asyncmcp-client-{clientId}" : $"asyncmcp-session-{sessionId}",
                sessionId,
                (message, ct) => SendAsync(session, message, null, ct),
                _loggerFactory);
            _sessions[key] = session;
            if (_options.RunSessionHandler is { } handler)
            {
                session.RunTask = RunSessionHandlerAsync(session, handler);
            }
            else
            {
                session.Server = McpServer.Create(session.Transport, _serverOptions, _loggerFactory, _services);
                session.RunTask = RunSessionAsync(session);
            }

            return session;
        }
    }

    private async Task RunSessionHandlerAsync(RoutedSession session, Func<ITransport, CancellationToken, Task> handler)
    {
        // Off the caller's thread: the router is routing a message into this session right now.
        await Task.Yield();
        try
        {
            await handler(session.Transport, session.Stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (session.Stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSessionFaulted(session.Key, ex);
        }

        if (!session.IsClosed)
        {
            _ = Task.Run(() => CloseSessionAsync(session, "its session handler ended", completeUnanswered: true), CancellationToken.None);
        }
    }

    private async Task RunSessionAsync(RoutedSession session)
    {
        try
        {
            await session.Server!.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSessionFaulted(session.Key, ex);
        }
    }

    private async Task SendAsync(RoutedSession session, JsonRpcMessage message, string? address, CancellationToken cancellationToken)
    {
        try
        {
            await SendCoreAsync(session, message, address, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (CloseSessionWhenDeliveryFails && ex is not OperationCanceledException && !session.IsClosed)
        {
            // Nothing can reach this client any more (its retries are spent): end the session plainly rather than
            // leave it half-alive, running tools whose results can never arrive.
            LogDeliveryFailedClosing(session.Key, DescribeKind(message), address ?? session.ReplyAddress ?? "(none)", ex);
            _ = Task.Run(() => CloseSessionAsync(session, $"delivery to its reply address failed ({ex.Message})", completeUnanswered: true), CancellationToken.None);
            throw;
        }
    }

    private async Task SendCoreAsync(RoutedSession session, JsonRpcMessage message, string? address, CancellationToken cancellationToken)
    {
        // A session that is answering is not idle: a long tool must not be followed by an immediate expiry.
        session.Touch(_time.GetUtcNow());
        address ??= session.ReplyAddress;
        if (message is JsonRpcResponse initializeAnswer && session.InitializeKey is { } initializeKey && _pending.Find(initializeKey, initializeAnswer.Id) is not null)
        {
            // The answer that opens the session is where the server says what it understands beyond MCP, whatever
            // serves the session (an McpServer, or a bridge forwarding another server's answer).
            SessionCloseSupport.Declare(initializeAnswer);
        }

        var answeredId = message switch
        {
            JsonRpcResponse response => response.Id,
            JsonRpcError error => error.Id,
            _ => (RequestId?)null,
        };

        if (address is null)
        {
            LogNoReplyAddress(session.Key, DescribeKind(message));
            if (answeredId is { } lostId)
            {
                Abandon(session, lostId);
            }

            throw new IOException($"Session '{session.Key}' has no reply address.");
        }

        if (_sink.PreservesOrder(address))
        {
            // An ordered destination gets the session's messages one at a time, in the order they were produced.
            var target = address;
            await session.SendInOrder(() => SendNowAsync(session, message, target, answeredId, cancellationToken)).ConfigureAwait(false);
            return;
        }

        if (message is JsonRpcNotification)
        {
            await session.TrackNotificationSend(() => _sink.SendAsync(address, BuildOutbound(message, session), cancellationToken)).ConfigureAwait(false);
            return;
        }

        if (answeredId is not null)
        {
            // Keep "progress before the result it precedes": the SDK calls us for the notice first, but both sends run at once.
            await session.WaitForEarlierNotificationsAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await SendNowAsync(session, message, address, answeredId, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendNowAsync(RoutedSession session, JsonRpcMessage message, string address, RequestId? answeredId, CancellationToken cancellationToken)
    {
        try
        {
            var outbound = BuildOutbound(message, session);
            try
            {
                Remember(session, answeredId, address, outbound);
                await _sink.SendAsync(address, outbound, cancellationToken).ConfigureAwait(false);
            }
            catch (MessageTooLargeException tooLarge) when (answeredId is { } tooLargeId)
            {
                // A result, or an error with a huge message or data, that the destination cannot carry: a short error instead.
                LogResponseTooLarge(session.Key, tooLargeId, tooLarge.ActualBytes, tooLarge.MaxBytes);
                var error = JsonRpcErrors.Create(
                    tooLargeId,
                    McpErrorCode.InternalError,
                    $"The response is {tooLarge.ActualBytes} bytes, more than the {tooLarge.MaxBytes} bytes the transport can carry.",
                    ErrorReasons.PayloadTooLarge);
                var errorOutbound = BuildOutbound(error, session);
                Remember(session, answeredId, address, errorOutbound);
                await _sink.SendAsync(address, errorOutbound, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (answeredId is { } failedId && ex is not OperationCanceledException)
        {
            LogAnswerSendFailed(session.Key, failedId, address, ex);
            Abandon(session, failedId);
            throw;
        }

        if (answeredId is { } id && _pending.Remove(TrackingKey(session, id), id) is { } inbound)
        {
            await CompleteQuietlyAsync(inbound, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the answer before it is sent, so a redelivery of its request can be answered even if this send fails.</summary>
    private void Remember(RoutedSession session, RequestId? answeredId, string address, OutboundMessage answer)
    {
        if (answeredId is { } id && _pending.Find(TrackingKey(session, id), id) is { } pending)
        {
            _answers.Remember(pending.SessionKey, id, pending.Fingerprint, address, answer);
        }
    }

    /// <summary>An initialize is answered again only while the session it opened is open; otherwise it opens a new one.</summary>
    private bool SessionStillOpen(OutboundMessage answer) =>
        answer.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId) &&
        _sessions.TryGetValue(sessionId, out var session) &&
        !session.IsClosed;

    /// <summary>Requests are tracked under their session, except a session's initialize, tracked under its client.</summary>
    private string TrackingKey(RoutedSession session, RequestId id) =>
        session.InitializeKey is { } initializeKey && _pending.Find(session.Key, id) is null && _pending.Find(initializeKey, id) is not null
            ? initializeKey
            : session.Key;

    private OutboundMessage BuildOutbound(JsonRpcMessage message, RoutedSession? session) =>
        OutboundMessageFactory.Create(message, _time.GetUtcNow(), session?.SessionId, session?.ClientId, orderingKey: session?.Key);

    private async Task RejectUndecodableAsync(IInboundMessage message, DecodeResult decoded, string? sessionId, string? clientId, CancellationToken cancellationToken)
    {
        var reason = decoded.ErrorCode == McpErrorCode.ParseError ? ErrorReasons.ParseError : ErrorReasons.InvalidMessage;

        // A body that is not JSON may still have named its request in the RequestId attribute: use it, so the sender
        // can match the error to the request instead of waiting. (A JSON body's unusable id stays null.)
        var id = decoded.Id;
        if (id.Id is null && decoded.ErrorCode == McpErrorCode.ParseError &&
            message.Attributes.TryGetValue(WireAttributes.RequestId, out var requestIdText) && !string.IsNullOrEmpty(requestIdText))
        {
            id = long.TryParse(requestIdText, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number)
                ? new RequestId(number)
                : new RequestId(requestIdText);
        }

        var error = JsonRpcErrors.Create(id, decoded.ErrorCode, decoded.Error!, reason);
        string? replyAddress = null;
        if (!string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(sessionId, out var session))
        {
            replyAddress = session.ReplyAddress;
        }

        // A body that is JSON but not a valid message may still name where to answer, as a request's own address does.
        if (SessionRequestsMayNameReplyAddress && _convention.Read(decoded) is { } named && _convention.IsWellFormed(named))
        {
            replyAddress = named;
        }

        await RejectAsync(message, error, replyAddress, sessionId, clientId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends an error for a message that will not be processed and completes the message; when there is nowhere
    /// to send it, logs it and leaves it to the dead-letter queue if there is one.
    /// </summary>
    private async Task RejectAsync(IInboundMessage message, JsonRpcError error, string? replyAddress, string? sessionId, string? clientId, CancellationToken cancellationToken)
    {
        LogRejected(message.MessageId, error.Error.Code, error.Error.Message, replyAddress ?? "(none: logged only)");
        if (replyAddress is null && !SessionRequestsMayNameReplyAddress && !string.IsNullOrEmpty(sessionId))
        {
            // The request's session closed as it arrived, and the request may not say where else to answer: its source
            // is told instead (a webhook endpoint answers its sender at the address it checked).
            await ReleaseQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (replyAddress is null)
        {
            await DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var replySession = !string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(sessionId, out var known)
            ? known
            : new RoutedSession(string.Empty, null, clientId, replyAddress, _time.GetUtcNow());
        try
        {
            await _sink.SendAsync(replyAddress, BuildOutbound(error, replySession), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogErrorReplyFailed(message.MessageId, replyAddress, ex);
        }

        await CompleteQuietlyAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Input nobody can be told about: hand it back for the redrive policy when there is a dead-letter queue, else delete it (it was logged).</summary>
    private Task DropUnprocessableAsync(IInboundMessage message, CancellationToken cancellationToken) =>
        LeaveUnprocessableToRedrive
            ? ReleaseQuietlyAsync(message, cancellationToken)
            : CompleteQuietlyAsync(message, cancellationToken);

    /// <summary>The request's own reply address if it names a well-formed one; logs a missing or malformed one.</summary>
    private string? ReadReplyAddress(IInboundMessage message, JsonRpcRequest request)
    {
        var address = _convention.Read(request);
        if (address is null)
        {
            LogMissingReplyAddress(message.MessageId, request.Method, _convention.MetaKey);
            return null;
        }

        if (!_convention.IsWellFormed(address))
        {
            LogMalformedReplyAddress(message.MessageId, request.Method, _convention.MetaKey, address, _convention.Expected);
            return null;
        }

        return address;
    }

    /// <summary>
    /// Where an error for a request goes: its own reply address, else its session's; or, when session requests may not
    /// name their own (<see cref="SessionRequestsMayNameReplyAddress"/>), only its session's.
    /// </summary>
    private string? ReplyAddressFor(JsonRpcRequest request, string? sessionId, RoutedSession? context = null)
    {
        if (context is null && !string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(sessionId, out var known))
        {
            context = known;
        }

        if (!SessionRequestsMayNameReplyAddress && (!string.IsNullOrEmpty(sessionId) || context?.SessionId is not null))
        {
            return context?.ReplyAddress;
        }

        return (_convention.Read(request) is { } own && _convention.IsWellFormed(own) ? own : null) ?? context?.ReplyAddress;
    }

    private void Abandon(RoutedSession session, RequestId id)
    {
        var sessionKey = TrackingKey(session, id);
        if (_pending.Remove(sessionKey, id) is { } inbound)
        {
            if (SourceRedelivers)
            {
                // Not completed: the broker delivers it again once its lease ends, which also spaces out the retry.
                LogAbandoned(inbound.MessageId, sessionKey, id);
            }
            else
            {
                LogAbandonedNotRedelivered(inbound.MessageId, sessionKey, id);
            }
        }
    }

    /// <summary>
    /// Closes a session and settles the messages of its unanswered requests: a client that closed its session
    /// wants no answers, so they are completed; otherwise (shutdown, a fault) they go back to the broker for the
    /// next server.
    /// </summary>
    private async Task CloseSessionAsync(RoutedSession session, string reason, bool completeUnanswered = false, CancellationToken stopWaiting = default)
    {
        if (!session.TryMarkClosed())
        {
            return;
        }

        _sessions.TryRemove(new KeyValuePair<string, RoutedSession>(session.Key, session));
        LogSessionClosed(session.Key, reason);
        try
        {
            await session.Transport.DisposeAsync().ConfigureAwait(false);
            await session.Stopping.CancelAsync().ConfigureAwait(false);

            // Disposing the SDK server cancels its handlers and waits for them; a tool that ignores cancellation
            // must not hold up shutdown or the close of other sessions forever.
            var stopped = Task.WhenAll(session.Server?.DisposeAsync().AsTask() ?? Task.CompletedTask, session.RunTask);
            await stopped.WaitAsync(s_sessionStopTimeout, stopWaiting).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogSessionStopTimedOut(session.Key, s_sessionStopTimeout.TotalSeconds);
        }
        catch (OperationCanceledException) when (stopWaiting.IsCancellationRequested)
        {
            // The host is out of time: the session's handlers are left to finish on their own.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSessionFaulted(session.Key, ex);
        }

        // The closed session can answer nothing more; without this its requests would hold in-flight slots and
        // invisible messages until the process stops.
        var unanswered = _pending.RemoveAll(session.Key);
        if (session.InitializeKey is { } initializeKey)
        {
            unanswered.AddRange(_pending.RemoveAll(initializeKey));
        }

        await Task.WhenAll(unanswered.Select(inbound => completeUnanswered
            ? CompleteQuietlyAsync(inbound, CancellationToken.None)
            : ReleaseQuietlyAsync(inbound, CancellationToken.None))).ConfigureAwait(false);
    }

    private async Task RunMaintenanceAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(1);
        if (_leaseDuration is { } lease && lease / 4 < period)
        {
            period = lease / 4;
        }

        if (_options.SessionIdleTimeout / 4 < period)
        {
            period = _options.SessionIdleTimeout / 4;
        }

        using var timer = new PeriodicTimer(period < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : period, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await RenewLeasesAsync(cancellationToken).ConfigureAwait(false);
                    await ExpireIdleSessionsAsync().ConfigureAwait(false);
                    _answers.RemoveExpired();
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    // One bad tick must not end lease renewal and expiry for good.
                    LogMaintenanceFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RenewLeasesAsync(CancellationToken cancellationToken)
    {
        if (_leaseDuration is not { } lease)
        {
            return;
        }

        var now = _time.GetUtcNow();
        foreach (var pending in _pending.Snapshot)
        {
            // Renew at about 70% of the lease, so a slow tool is never redelivered while it runs.
            if (pending.LeaseLost || pending.LeaseExpires - now > lease * 0.3)
            {
                continue;
            }

            try
            {
                if (await pending.Message.ExtendAsync(lease, cancellationToken).ConfigureAwait(false))
                {
                    pending.LeaseExpires = _time.GetUtcNow() + lease;
                }
                else
                {
                    pending.LeaseLost = true;
                    LogLeaseLost(pending.Message.MessageId, pending.SessionKey, pending.Id);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogLeaseRenewalFailed(pending.Message.MessageId, ex);
            }
        }
    }

    private async Task ExpireIdleSessionsAsync()
    {
        var cutoff = _time.GetUtcNow() - _options.SessionIdleTimeout;
        foreach (var session in _sessions.Values)
        {
            if (session.LastActivity < cutoff && !_pending.HasAny(session.Key))
            {
                await CloseSessionAsync(session, "idle timeout").ConfigureAwait(false);
            }
        }
    }

    /// <summary>Completes (deletes) a message; a broker failure is logged, not thrown.</summary>
    private Task CompleteQuietlyAsync(IInboundMessage message, CancellationToken cancellationToken) =>
        SafeAsync(() => message.CompleteAsync(cancellationToken), message.MessageId, "complete");

    /// <summary>Hands a message back to the broker; a broker failure is logged, not thrown.</summary>
    private Task ReleaseQuietlyAsync(IInboundMessage message, CancellationToken cancellationToken) =>
        SafeAsync(() => message.ReleaseAsync(cancellationToken), message.MessageId, "release");

    private async Task SafeAsync(Func<Task> action, string messageId, string operation)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogBrokerOperationFailed(operation, messageId, ex);
        }
    }

    private static string DescribeKind(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => $"request '{request.Method}'",
        JsonRpcNotification notification => $"notification '{notification.Method}'",
        JsonRpcResponse => "response",
        JsonRpcError => "error response",
        _ => "message",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} created for client {ClientId}.")]
    private partial void LogSessionCreated(string sessionId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionKey} closed: {Reason}.")]
    private partial void LogSessionClosed(string sessionKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionKey}: handlers still running {Seconds:F0} s after cancellation (a tool ignoring its CancellationToken?); the session is abandoned.")]
    private partial void LogSessionStopTimedOut(string sessionKey, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey} failed.")]
    private partial void LogSessionFaulted(string sessionKey, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Method} names no reply address (params._meta.{MetaKey}); nothing can be sent back, so it is dropped.")]
    private partial void LogMissingReplyAddress(string messageId, string method, string metaKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Method} names a malformed reply address in params._meta.{MetaKey} ('{Address}', expected {Expected}); nothing can be sent back, so it is dropped.")]
    private partial void LogMalformedReplyAddress(string messageId, string method, string metaKey, string address, string expected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Kind} for unknown or expired session {SessionId} dropped.")]
    private partial void LogUnknownSession(string messageId, string sessionId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Kind} without a session from client {ClientId} has no context to go to; dropped.")]
    private partial void LogUnroutable(string messageId, string kind, string clientId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} rejected with error {Code} ({Error}); reply sent to {ReplyAddress}.")]
    private partial void LogRejected(string messageId, int code, string error, string replyAddress);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId}: the error reply to {ReplyAddress} could not be sent.")]
    private partial void LogErrorReplyFailed(string messageId, string replyAddress, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server holds its maximum of {MaxSessions} sessions; a new session was refused.")]
    private partial void LogSessionLimitReached(int maxSessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was already answered (receive count {ReceiveCount}); the answer is sent again and the request is not run again.")]
    private partial void LogAnsweredAgain(string messageId, string sessionKey, RequestId requestId, int receiveCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} is already in flight; the duplicate is not run again.")]
    private partial void LogDuplicateInFlight(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey}: the answer to request {RequestId} could not be sent to {ReplyAddress}.")]
    private partial void LogAnswerSendFailed(string sessionKey, RequestId requestId, string replyAddress, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionKey}: the response to request {RequestId} is {ActualBytes} bytes, over the limit of {MaxBytes}; an error is sent instead.")]
    private partial void LogResponseTooLarge(string sessionKey, RequestId requestId, int actualBytes, int maxBytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey} has no reply address for a {Kind}.")]
    private partial void LogNoReplyAddress(string sessionKey, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (request {RequestId} of {SessionKey}) was not answered; it is left for the broker to deliver again.")]
    private partial void LogAbandoned(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (request {RequestId} of {SessionKey}) was not answered, and nothing delivers it again: its client has to send it again.")]
    private partial void LogAbandonedNotRedelivered(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (request {RequestId} of {SessionKey}): its lease could not be renewed, so the broker may deliver it again.")]
    private partial void LogLeaseLost(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease of message {MessageId} failed; trying again on the next tick.")]
    private partial void LogLeaseRenewalFailed(string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broker operation '{Operation}' on message {MessageId} failed.")]
    private partial void LogBrokerOperationFailed(string operation, string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was cancelled by its client; its message is completed without an answer.")]
    private partial void LogCancelledRequestCompleted(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease renewal and session expiry failed on this tick; they run again on the next.")]
    private partial void LogMaintenanceFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: session {SessionKey} closed while the request was being routed; handed back to the broker to be routed again.")]
    private partial void LogClosedWhileRouting(string messageId, string sessionKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: session {SessionKey} closed while the request was being routed; handed back to its source, which does not deliver it again (a webhook endpoint tells the client it was not answered).")]
    private partial void LogClosedWhileRoutingNotRedelivered(string messageId, string sessionKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was delivered again while still running (its lease lapsed); kept with its new receipt.")]
    private partial void LogRedeliveredWhileRunning(string messageId, string sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey}: a {Kind} could not be delivered to {ReplyAddress} after retries; the session is closed.")]
    private partial void LogDeliveryFailedClosing(string sessionKey, string kind, string replyAddress, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} requests were still in flight after {Seconds:F1} s; their messages go back to the broker.")]
    private partial void LogDrainTimedOut(int count, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} requests were still in flight after {Seconds:F1} s; they are handed back to their source, which does not deliver them again (a webhook endpoint tells each client its request was not answered).")]
    private partial void LogDrainTimedOutNotRedelivered(int count, double seconds);
}
