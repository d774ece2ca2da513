using System.Collections.Concurrent;
using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>
/// One server-side MCP session (or the context of one client's session-less requests): the transport its
/// <see cref="McpServer"/> runs on, the requests of it in flight, and the lane that keeps its sends in order. Its parts
/// are set once at construction; closing is a token.
/// </summary>
/// <remarks>
/// Each request is delivered with its own <see cref="RequestTransport"/> as the message's related transport, so the SDK
/// answers it (and sends its progress and its requests to the client) through that request; what the session sends
/// through itself belongs to no request (a list-changed notification, say) and goes to the session's reply address.
/// </remarks>
internal sealed partial class ServerSession : McpTransportBase
{
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly DispatchContext _context;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<RequestId, RequestTransport> _requests = new();
    private readonly CancellationTokenSource _closed = new();
    private McpServer? _server;
    private Task _run = Task.CompletedTask;
    private long _lastActivityTicks;
    private string _replyAddress;
    private int _closing;

    public ServerSession(SessionKey key, string? sessionId, string? clientId, string replyAddress, SessionKey? initializeKey, DispatchContext context)
        : base(sessionId is null ? $"asyncmcp-client-{clientId}" : $"asyncmcp-session-{sessionId}")
    {
        Key = key;
        SessionId = sessionId;
        ClientId = clientId;
        InitializeKey = initializeKey;
        _replyAddress = replyAddress;
        _context = context;
        _logger = context.LoggerFactory?.CreateLogger<ServerSession>() ?? NullLogger<ServerSession>.Instance;
        // A sink that queues and orders its own deliveries (webhooks) gets the session's messages as they come.
        Lane = context.Sink.OrdersDeliveries ? null : new SendLane(strict: context.Sink.PreservesOrder(replyAddress));
        Touch();
        SetConnected();
    }

    public SessionKey Key { get; }

    /// <summary>Whether the client declared (in its <c>initialize</c>) that it understands the server's session-close notice.</summary>
    public bool ClientUnderstandsClose { get; set; }

    public string? ClientId { get; }

    /// <summary>For a session opened by <c>initialize</c>: the key of its client's initialize requests.</summary>
    public SessionKey? InitializeKey { get; }

    /// <summary>Where what belongs to no request goes; a session-less context follows its client's latest request.</summary>
    public string ReplyAddress
    {
        get => Volatile.Read(ref _replyAddress);
        set => Volatile.Write(ref _replyAddress, value);
    }

    /// <summary>Keeps the session's sends in the order it made them (all of them, to a FIFO destination); <see langword="null"/> when the sink keeps the order itself.</summary>
    public SendLane? Lane { get; }

    public DispatchContext Context => _context;

    public bool IsClosed => Volatile.Read(ref _closing) != 0;

    /// <summary>Cancelled when the session closes.</summary>
    public CancellationToken Closed => _closed.Token;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    public bool HasRequestsInFlight => !_requests.IsEmpty;

    public void Touch() => Interlocked.Exchange(ref _lastActivityTicks, _context.Time.GetUtcNow().UtcTicks);

    /// <summary>Starts serving: an <see cref="McpServer"/>, or the custom handler (a bridge) when one is given.</summary>
    public void Start(McpServerOptions serverOptions, Func<ITransport, CancellationToken, Task>? handler, IServiceProvider? services)
    {
        if (handler is null)
        {
            _server = McpServer.Create(this, serverOptions, _context.LoggerFactory, services);
            _run = RunServerAsync(_server);
        }
        else
        {
            _run = RunHandlerAsync(handler);
        }
    }

    /// <summary>Hands a message from the client (a notification, or an answer to a request of the server) to the SDK.</summary>
    public Task WriteAsync(JsonRpcMessage message, CancellationToken cancellationToken) => WriteMessageAsync(message, cancellationToken);

    public RequestTransport? FindRequest(RequestId id) => _requests.TryGetValue(id, out var request) ? request : null;

    /// <summary>Starts tracking a request; <see langword="false"/> if one with its id is in flight already.</summary>
    public bool TryTrack(RequestTransport request) => _requests.TryAdd(request.Id, request);

    public void Untrack(RequestTransport request) => _requests.TryRemove(new KeyValuePair<RequestId, RequestTransport>(request.Id, request));

    /// <inheritdoc />
    public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (IsClosed)
        {
            throw new IOException("The session is closed.");
        }

        return SendAsync(_context.Build(message, SessionId, ClientId, Key.Value), ReplyAddress, cancellationToken);
    }

    /// <summary>Sends a message of this session in its order (by default straight to the sink; <paramref name="send"/> replaces that step).</summary>
    public Task SendAsync(OutboundMessage message, string address, CancellationToken cancellationToken, Func<CancellationToken, Task>? send = null)
    {
        // A session that is answering is not idle: a long tool must not be followed by an immediate expiry.
        Touch();
        Func<Task> run = send is null ? () => _context.Sink.SendAsync(address, message, cancellationToken) : () => send(cancellationToken);
        return Lane is { } lane ? lane.SendAsync(message.Kind, run, afterAllEarlier: message.ClosesSession) : run();
    }

    /// <summary>
    /// Closes the session: no more sends, its handlers cancelled, and the messages of its unanswered requests settled:
    /// completed when the client closed it (it wants no answers), else handed back for the next server. Idempotent.
    /// </summary>
    /// <returns><see langword="true"/> if this call closed it.</returns>
    public async Task<bool> CloseAsync(string reason, bool completeUnanswered, bool tellClient = false, CancellationToken stopWaiting = default)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return false;
        }

        LogClosed(Key, reason);
        if (tellClient && SessionId is not null && ClientUnderstandsClose)
        {
            await TellClientClosedAsync(reason, stopWaiting).ConfigureAwait(false);
        }

        SetDisconnected();
        try
        {
            await _closed.CancelAsync().ConfigureAwait(false);

            // Disposing the SDK server cancels its handlers and waits for them; a tool that ignores cancellation must not
            // hold up shutdown or the close of other sessions forever.
            var stopped = Task.WhenAll(_server?.DisposeAsync().AsTask() ?? Task.CompletedTask, _run);
            await stopped.WaitAsync(s_stopTimeout, stopWaiting).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogStopTimedOut(Key, s_stopTimeout.TotalSeconds);
        }
        catch (OperationCanceledException) when (stopWaiting.IsCancellationRequested)
        {
            // The host is out of time: the session's handlers are left to finish on their own.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFaulted(Key, ex);
        }

        // The closed session can answer nothing more; without this its requests would hold in-flight slots and
        // invisible messages until the process stops.
        await Task.WhenAll(_requests.Values.ToArray().Select(request => completeUnanswered ? request.CompleteAsync() : request.ReleaseAsync())).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>The owner closes a session with <see cref="CloseAsync"/>; disposing only stops its transport.</remarks>
    public override ValueTask DisposeAsync()
    {
        SetDisconnected();
        return ValueTask.CompletedTask;
    }

    /// <summary>Tells a client that understands it that the server closed its session, so it stops at once rather than at its next request.</summary>
    private async Task TellClientClosedAsync(string reason, CancellationToken stopWaiting)
    {
        var notice = new JsonRpcNotification { Method = Wire.WireMethods.SessionClose, Params = new System.Text.Json.Nodes.JsonObject { ["reason"] = reason } };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopWaiting);
        timeout.CancelAfter(s_stopTimeout);
        try
        {
            // It goes after the session's answers still being sent; waiting for them is bounded like the send itself.
            await SendAsync(_context.Build(notice, SessionId, ClientId, Key.Value), ReplyAddress, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogNoticeFailed(Key, ex);
        }
    }

    private async Task RunServerAsync(McpServer server)
    {
        try
        {
            await server.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFaulted(Key, ex);
        }
    }

    private async Task RunHandlerAsync(Func<ITransport, CancellationToken, Task> handler)
    {
        // Off the caller's thread: the dispatcher is routing a message into this session right now.
        await Task.Yield();
        try
        {
            await handler(this, Closed).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Closed.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFaulted(Key, ex);
        }

        if (!IsClosed)
        {
            _ = Task.Run(() => _context.CloseSession(this, "its session handler ended"), CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionKey} closed: {Reason}.")]
    private partial void LogClosed(SessionKey sessionKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionKey}: handlers still running {Seconds:F0} s after cancellation (a tool ignoring its CancellationToken?); the session is abandoned.")]
    private partial void LogStopTimedOut(SessionKey sessionKey, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionKey}: telling the client that its session was closed failed; it learns at its next request.")]
    private partial void LogNoticeFailed(SessionKey sessionKey, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey} failed.")]
    private partial void LogFaulted(SessionKey sessionKey, Exception exception);
}
