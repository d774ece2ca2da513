using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Client;

/// <summary>
/// The client side of one MCP connection over a queue-like transport: sends to the server's address with the
/// wire attributes, receives from the client's own reply address, and keeps only the replies meant for it.
/// </summary>
/// <remarks>
/// <para>
/// Replies that carry another client's <see cref="WireAttributes.ClientId"/> or another session's
/// <see cref="WireAttributes.SessionId"/> are handed back to the broker untouched (made visible again), never
/// deleted, so that several clients can share one reply queue. A second copy of a reply (a broker delivering a
/// message again, or a server answering a request again) is deleted and dropped: the client sees each answer once.
/// </para>
/// <para>
/// The <see cref="WireAttributes.ProtocolVersion"/> attribute of each message names that message's revision: a
/// 2026-07-28 request's own <c>_meta</c> revision; none on <c>initialize</c>, whose revision is only asked for; the
/// agreed revision (from the <c>initialize</c> answer, or a <c>server/discover</c> the server answered) on the rest.
/// Servers that check the attribute (asyncmcp's drop a message naming a revision they do not know) then judge each
/// message by what it is.
/// </para>
/// </remarks>
internal sealed partial class AsyncMcpClientSessionTransport : McpTransportBase
{
    private const string PerRequestProtocolVersionKey = "io.modelcontextprotocol/protocolVersion";
    private const string DefaultInitializeRevision = "2025-11-25";
    private const int RecentMessageIdsRemembered = 1024;

    private readonly RetryingMessageSink _sink;
    private readonly SendLane _lane = new();
    private readonly string _serverAddress;
    private string? _sessionAddress;
    private readonly string _replyAddress;
    private readonly ReplyAddressConvention _convention;
    private readonly AsyncMcpClientTransportOptions _options;
    private readonly IReplyFeed _replies;
    private readonly ILogger _logger;
    private readonly BackgroundOperations _acks = new(behindQueuedWork: true);
    private readonly Lock _gate = new();
    private readonly string _clientId;
    private readonly HashSet<RequestId> _outstanding = [];
    private readonly HashSet<string> _recentMessageIds = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentMessageOrder = new();
    private RequestId? _initializeId;
    private (RequestId Id, string? Version)? _discoverProbe;
    private string? _protocolVersion;
    private bool _serverUnderstandsClose;
    private AsyncMcpClientCompletionDetails? _sessionGone;
    private int _disposed;

    /// <summary>Creates the transport; <see cref="Start"/> begins receiving.</summary>
    /// <param name="name">A name for logs.</param>
    /// <param name="replies">Where the client's replies come from (its own queue, its share of one, or webhook deliveries).</param>
    /// <param name="sink">Sends to the server.</param>
    /// <param name="serverAddress">The server's request address.</param>
    /// <param name="replyAddress">The client's reply address, as the server should send to it.</param>
    /// <param name="convention">Where requests carry the reply address.</param>
    /// <param name="options">The client options; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="messagingSystem">The <c>messaging.system</c> of this transport's spans, such as <c>aws_sqs</c>.</param>
    public AsyncMcpClientSessionTransport(
        string name,
        IReplyFeed replies,
        IMessageSink sink,
        string serverAddress,
        string replyAddress,
        ReplyAddressConvention convention,
        AsyncMcpClientTransportOptions options,
        ILoggerFactory? loggerFactory,
        string messagingSystem = "asyncmcp")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(replies);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentException.ThrowIfNullOrEmpty(serverAddress);
        ArgumentException.ThrowIfNullOrEmpty(replyAddress);
        ArgumentNullException.ThrowIfNull(convention);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        _sink = new RetryingMessageSink(sink, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>()) { MessagingSystem = messagingSystem };
        _serverAddress = serverAddress;

        // Each connection has its own id: a reconnect starts its JSON-RPC ids again at 1, and two connections from
        // one options object must never take each other's replies or look like copies of each other's requests.
        _clientId = $"{options.ClientId}.{Guid.NewGuid().ToString("N")[..8]}";

        _replies = replies;
        _replyAddress = replyAddress;
        _convention = convention;
        _options = options;
        _logger = loggerFactory?.CreateLogger<AsyncMcpClientSessionTransport>() ?? NullLogger<AsyncMcpClientSessionTransport>.Instance;
    }

    /// <summary>Something the connection owns and disposes after it has stopped receiving (a webhook listener, for example).</summary>
    public IAsyncDisposable? OwnedResources { get; init; }

    /// <summary>
    /// Set when the sink turns the session-close notification into something every server of this transport
    /// understands (the webhook client sends it as an HTTP <c>DELETE</c>): the close is then sent without the
    /// server's declaration (<see cref="WireMethods.SessionCloseDeclaration"/>).
    /// </summary>
    public bool SessionCloseUnderstoodByAnyServer { get; init; }

    /// <summary>This connection's id on the wire: the configured client id and a random suffix.</summary>
    public string ClientId => _clientId;

    /// <summary>The protocol revision agreed with the server, once known.</summary>
    public string? ProtocolVersion => _protocolVersion;

    /// <summary>Starts receiving replies.</summary>
    public void Start()
    {
        SetConnected();
        _replies.Start(HandleReplyAsync);

        // On a reply queue shared through a demultiplexer, the replies addressed to this connection come here from now on.
        _replies.ClaimClient(_clientId);
        _ = WatchRepliesAsync();
    }

    /// <inheritdoc />
    public override async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!IsConnected)
        {
            throw _sessionGone is { } gone ? new ClientTransportClosedException(gone) : new IOException("The transport is closed.");
        }

        var version = _protocolVersion;
        if (message is JsonRpcRequest request)
        {
            if (_options.InitializeOnlyServer && request.Method == RequestMethods.ServerDiscover)
            {
                // An initialize-only server would drop this silently and the SDK would wait out its probe timeout.
                await WriteMessageAsync(AnswerDiscoverForInitializeOnlyServer(request), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (request.Method == RequestMethods.Initialize)
            {
                // Only asked for, not agreed: a server that checks the attribute must not drop the question.
                version = null;
            }
            else if (ReadPerRequestProtocolVersion(request) is { } perRequestVersion)
            {
                version = perRequestVersion;
            }

            lock (_gate)
            {
                if (request.Method == RequestMethods.Initialize)
                {
                    _initializeId = request.Id;
                }
                else if (request.Method == RequestMethods.ServerDiscover)
                {
                    _discoverProbe = (request.Id, version);
                }

                _outstanding.Add(request.Id);
            }

            _convention.Write(request, _replyAddress);
            if (request.Method == RequestMethods.Initialize)
            {
                // This client understands the server's notice that it closed the session (a server stopping says so).
                SessionCloseSupport.Declare(request);
            }
        }

        try
        {
            // Notifications (a cancellation, progress of a sampling answer) in order, with their retries; a request after
            // the notifications sent before it.
            var outbound = BuildOutbound(message, version);
            var address = ServerAddressFor(message);
            await _lane.SendAsync(outbound.Kind, () => _sink.SendAsync(address, outbound, cancellationToken)).ConfigureAwait(false);
        }
        catch (SessionNotFoundException notFound)
        {
            Forget(message);
            throw CloseBecauseSessionGone(notFound);
        }
        catch (DestinationNotFoundException gone) when (_sessionAddress is not null && gone.Destination == _sessionAddress && SessionId is { } lost)
        {
            // The worker that held the session, which this client reached directly, is gone with its queue.
            Forget(message);
            throw CloseBecauseSessionGone(new SessionNotFoundException(lost, $"The server worker holding session '{lost}' is gone ({gone.Message}); start a new session."));
        }
        catch
        {
            Forget(message);
            throw;
        }
    }

    /// <summary>
    /// The answer to <c>server/discover</c> for a server known to speak only <c>initialize</c>, given on its behalf:
    /// the one revision to ask for, which has the initialize handshake, so that the SDK falls back to <c>initialize</c>
    /// with it. (An answer, not an error: the SDK would log every refused probe as a failed request.)
    /// </summary>
    private JsonRpcResponse AnswerDiscoverForInitializeOnlyServer(JsonRpcRequest request) => new()
    {
        Id = request.Id,
        Result = JsonSerializer.SerializeToNode(
            new DiscoverResult { SupportedVersions = [_options.InitializeProtocolVersion ?? DefaultInitializeRevision], Capabilities = new ServerCapabilities() },
            McpJsonUtilities.DefaultOptions),
    };

    private void Forget(JsonRpcMessage message)
    {
        if (message is JsonRpcRequest request)
        {
            lock (_gate)
            {
                _outstanding.Remove(request.Id);
            }
        }
    }

    /// <summary>
    /// The server no longer has this session (it closed or expired it): every later message would fail the same way, so
    /// the connection ends here with the reason, and the client fails its pending and later calls.
    /// </summary>
    private ClientTransportClosedException CloseBecauseSessionGone(SessionNotFoundException notFound)
    {
        var details = new AsyncMcpClientCompletionDetails { Exception = notFound, ReplyAddress = _replyAddress, SessionId = notFound.SessionId };
        _sessionGone = details;
        LogSessionGone(notFound.SessionId, notFound.Message);
        SetDisconnected(new ClientTransportClosedException(details));
        return new ClientTransportClosedException(details);
    }

    /// <summary>
    /// Tells the server to close the session (when one was established), stops receiving at once, and completes
    /// the message channel. Safe to call more than once; never throws.
    /// </summary>
    /// <returns>A task that completes when the transport is closed.</returns>
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_options.CloseSessionOnDispose && SessionId is not null && IsConnected && (_serverUnderstandsClose || SessionCloseUnderstoodByAnyServer))
        {
            using var timeout = new CancellationTokenSource(_options.CloseTimeout);
            try
            {
                var close = new JsonRpcNotification { Method = WireMethods.SessionClose };
                await _sink.SendAsync(_sessionAddress ?? _serverAddress, BuildOutbound(close, _protocolVersion), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogCloseFailed(SessionId, ex);
            }
        }

        await _replies.DisposeAsync().ConfigureAwait(false);
        await _acks.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
        if (OwnedResources is { } owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }

        SetDisconnected();
    }

    /// <remarks>
    /// On an ordered (FIFO) request queue the server holds a request's message until it has answered it, and the
    /// broker hands out nothing else of that ordering key meanwhile. Requests therefore share the session's key
    /// (they are served in order), while notifications and responses (cancellations, answers to sampling) use a
    /// second key so that they are never stuck behind the request they concern.
    /// </remarks>
    private OutboundMessage BuildOutbound(JsonRpcMessage message, string? protocolVersion)
    {
        var orderingKey = SessionId ?? _clientId;
        return OutboundMessageFactory.Create(
            message,
            DateTimeOffset.UtcNow,
            SessionId,
            _clientId,
            protocolVersion,
            message is JsonRpcRequest ? orderingKey : orderingKey + ":control",
            _options.MessageAttributes);
    }

    private async Task HandleReplyAsync(IInboundMessage message, CancellationToken cancellationToken)
    {
        message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        using var activity = Diagnostics.AsyncMcpTelemetry.StartProcess(_sink.MessagingSystem, _replies.Description, message.MessageId, message.ReceiveCount);
        Diagnostics.AsyncMcpTelemetry.Describe(activity, method, sessionId);

        var forAnotherClient = !string.IsNullOrEmpty(clientId) && clientId != _clientId;
        var forAnotherSession = !string.IsNullOrEmpty(sessionId) && SessionId is not null && sessionId != SessionId;
        if (forAnotherClient || forAnotherSession)
        {
            // Someone else's reply on a shared queue: give it back untouched for its owner to receive.
            LogNotOurs(message.MessageId, clientId ?? "(none)", sessionId ?? "(none)");
            _acks.Run(() => ReleaseQuietlyAsync(message));
            return;
        }

        if (!RememberMessageId(message.MessageId))
        {
            // The broker handed out a message this connection has already handled (its delete had not yet arrived).
            LogSameReplyAgain(message.MessageId);
            _acks.Run(() => CompleteQuietlyAsync(message));
            return;
        }

        var decoded = JsonRpcCodec.Decode(message.Body);
        if (!decoded.IsSuccess)
        {
            LogUndecodableReply(message.MessageId, decoded.Error!);
            _acks.Run(() => CompleteQuietlyAsync(message));
            return;
        }

        var rpc = decoded.Message!;
        if (AnsweredId(rpc) is { } answeredId && !TakeOutstanding(answeredId))
        {
            // A second copy of an answer this connection already has (or of one to a request it never sent).
            LogDuplicateReply(message.MessageId, answeredId);
            _acks.Run(() => CompleteQuietlyAsync(message));
            return;
        }

        if (rpc is JsonRpcResponse response)
        {
            CaptureAgreement(response, sessionId);
        }
        else if (rpc is JsonRpcNotification { Method: WireMethods.SessionClose } closed && SessionId is { } ours)
        {
            // The server closed the session (it is stopping): every later call would fail, so the connection ends now.
            _acks.Run(() => CompleteQuietlyAsync(message));
            var reason = closed.Params is JsonObject { } parameters && parameters["reason"] is JsonValue text && text.TryGetValue<string>(out var said) ? said : "closed by the server";
            CloseBecauseSessionGone(new SessionNotFoundException(ours, $"The server closed session '{ours}': {reason}; start a new session."));
            return;
        }

        await WriteMessageAsync(rpc, cancellationToken).ConfigureAwait(false);
        _acks.Run(() => CompleteQuietlyAsync(message));
    }

    /// <summary>
    /// Where a message goes: the worker holding the session, when the server named a queue that reaches it and this
    /// transport follows it, for messages of the session; else the server's address (session-less requests go to any
    /// worker).
    /// </summary>
    private string ServerAddressFor(JsonRpcMessage message) =>
        _sessionAddress is { } direct && SessionId is not null && message is not JsonRpcRequest { Method: RequestMethods.Initialize } && !IsSessionless(message)
            ? direct
            : _serverAddress;

    private static bool IsSessionless(JsonRpcMessage message) => message is JsonRpcRequest request && ReadPerRequestProtocolVersion(request) is not null;

    private static RequestId? AnsweredId(JsonRpcMessage message) => message switch
    {
        JsonRpcResponse response => response.Id,
        JsonRpcError { Id.Id: not null } error => error.Id,
        _ => null,
    };

    private bool TakeOutstanding(RequestId id)
    {
        lock (_gate)
        {
            return _outstanding.Remove(id);
        }
    }

    private bool RememberMessageId(string messageId)
    {
        if (string.IsNullOrEmpty(messageId))
        {
            return true;
        }

        lock (_gate)
        {
            if (!_recentMessageIds.Add(messageId))
            {
                return false;
            }

            _recentMessageOrder.Enqueue(messageId);
            if (_recentMessageOrder.Count > RecentMessageIdsRemembered)
            {
                _recentMessageIds.Remove(_recentMessageOrder.Dequeue());
            }

            return true;
        }
    }

    /// <summary>
    /// From the answer to <c>initialize</c>: the session, the agreed revision and whether the server understands the
    /// session close; from a <c>server/discover</c> the server answered: the revision it was asked with.
    /// </summary>
    private void CaptureAgreement(JsonRpcResponse response, string? sessionId)
    {
        string? discovered = null;
        bool initialized;
        lock (_gate)
        {
            initialized = _initializeId is { } initializeId && response.Id == initializeId;
            if (initialized)
            {
                _initializeId = null;
            }
            else if (_discoverProbe is { } probe && response.Id == probe.Id)
            {
                _discoverProbe = null;
                discovered = probe.Version;
            }
        }

        if (discovered is not null)
        {
            _protocolVersion = discovered;
            return;
        }

        if (!initialized)
        {
            return;
        }

        if (!string.IsNullOrEmpty(sessionId) && SessionId is null)
        {
            SessionId = sessionId;
            _replies.ClaimSession(sessionId);
            LogSessionEstablished(sessionId);
        }

        if (response.Result is JsonObject result && result["protocolVersion"] is JsonValue value && value.TryGetValue<string>(out var version))
        {
            _protocolVersion = version;
        }

        _serverUnderstandsClose = SessionCloseSupport.IsDeclared(response);
        if (_options.FollowSessionAddress && SessionAddresses.Read(response) is { } sessionAddress)
        {
            _sessionAddress = sessionAddress;
            LogSessionAddress(SessionId ?? "(none)", sessionAddress);
        }
    }

    private static string? ReadPerRequestProtocolVersion(JsonRpcRequest request) =>
        request.Params is JsonObject parameters &&
        parameters["_meta"] is JsonObject meta &&
        meta[PerRequestProtocolVersionKey] is JsonValue value &&
        value.TryGetValue<string>(out var version) ? version : null;

    private async Task WatchRepliesAsync()
    {
        try
        {
            await _replies.Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The reply queue is gone or unreadable: fail the connection so callers get an error instead of waiting forever.
            SetDisconnected(new ClientTransportClosedException(new AsyncMcpClientCompletionDetails
            {
                Exception = ex,
                ReplyAddress = _replyAddress,
                SessionId = SessionId,
            }));
        }
    }

    private async Task CompleteQuietlyAsync(IInboundMessage message)
    {
        try
        {
            await message.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAckFailed(message.MessageId, ex);
        }
    }

    private async Task ReleaseQuietlyAsync(IInboundMessage message)
    {
        try
        {
            await message.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogAckFailed(message.MessageId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server no longer has session {SessionId} ({Reason}); the connection is closed.")]
    private partial void LogSessionGone(string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} is held by a server worker reached directly at {SessionAddress}.")]
    private partial void LogSessionAddress(string sessionId, string sessionAddress);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} established.")]
    private partial void LogSessionEstablished(string sessionId);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Reply {MessageId} is for client {ClientId} / session {SessionId}, not this one; handed back to the queue.")]
    private partial void LogNotOurs(string messageId, string clientId, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reply {MessageId} answers request {RequestId}, which has its answer already (or was never sent); deleted.")]
    private partial void LogDuplicateReply(string messageId, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reply {MessageId} was received again before its deletion took effect; deleted.")]
    private partial void LogSameReplyAgain(string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply {MessageId} is not a JSON-RPC message and was discarded: {Error}")]
    private partial void LogUndecodableReply(string messageId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledging reply {MessageId} failed.")]
    private partial void LogAckFailed(string messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling the server to close session {SessionId} failed; it will expire on the server's idle timeout.")]
    private partial void LogCloseFailed(string sessionId, Exception exception);
}
