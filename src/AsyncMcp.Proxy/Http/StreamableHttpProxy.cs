using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AsyncMcp.Proxy.Bridging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Http;

/// <summary>
/// The Streamable HTTP front of the proxy: standard MCP clients connect over HTTP, and each HTTP session
/// (<c>Mcp-Session-Id</c>) is forwarded, unchanged, over a back connection of its own (an AsyncMcp client transport:
/// SQS, say). Requests are answered on their POST's SSE stream, notifications with 202, the GET stream carries what
/// the server sends unprompted, and <c>DELETE</c> closes the session and its back connection. Requests of protocol
/// revision 2026-07-28, which has no sessions, are checked as the SDK's endpoint checks them and answered each on its
/// own stream, over one back connection they share.
/// </summary>
/// <remarks>Mount with <c>app.Map("/mcp", proxy.HandleAsync)</c>; the HTTP handling per session is the SDK's own <see cref="StreamableHttpServerTransport"/>.</remarks>
public sealed partial class StreamableHttpProxy : IAsyncDisposable
{
    private const string SessionHeader = "Mcp-Session-Id";
    private static readonly JsonSerializerOptions s_json = McpJsonUtilities.DefaultOptions;
    private readonly Func<CancellationToken, Task<ITransport>> _connectBack;
    private readonly StreamableHttpProxyOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ProxySession> _sessions = new(StringComparer.Ordinal);
    private readonly byte[]? _token;
    private readonly TimeProvider _time;
    private readonly ITimer _expiry;
    private readonly PerRequestForwarder _perRequest;
    private int _disposed;

    /// <summary>Creates the front.</summary>
    /// <param name="connectBack">Opens the back connection of a new session (for example <c>ct =&gt; new SqsClientTransport(…).ConnectAsync(ct)</c>).</param>
    /// <param name="options">The front's settings; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="timeProvider">The clock for idle expiry; <see cref="TimeProvider.System"/> by default.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public StreamableHttpProxy(Func<CancellationToken, Task<ITransport>> connectBack, StreamableHttpProxyOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connectBack);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connectBack = connectBack;
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<StreamableHttpProxy>();
        _token = options.BearerToken is null ? null : Encoding.UTF8.GetBytes(options.BearerToken);
        _time = timeProvider ?? TimeProvider.System;
        var period = TimeSpan.FromTicks(Math.Clamp(Math.Min(options.SessionIdleTimeout.Ticks, options.AbandonedSessionTimeout.Ticks) / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _perRequest = new PerRequestForwarder(connectBack, _loggerFactory);
        _expiry = _time.CreateTimer(static state => ((StreamableHttpProxy)state!).ExpireIdleSessions(), this, period, period);
    }

    /// <summary>How many sessions are open.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>Handles one HTTP request to the MCP endpoint (POST, GET or DELETE).</summary>
    /// <param name="context">The HTTP context.</param>
    /// <returns>A task that completes when the response is done (for a GET, when its stream ends).</returns>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsAllowedHost(context.Request))
        {
            LogRefusedHost(context.Request.Host.Value ?? string.Empty, context.Request.Headers.Origin.ToString());
            await ErrorAsync(context, StatusCodes.Status403Forbidden, default, McpErrorCode.InvalidRequest, "Forbidden: the Host or Origin header is not one this proxy serves.").ConfigureAwait(false);
            return;
        }

        if (!IsAuthorized(context.Request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ErrorAsync(context, StatusCodes.Status401Unauthorized, default, McpErrorCode.InvalidRequest, "Unauthorized: send the proxy's token as 'Authorization: Bearer <token>'.").ConfigureAwait(false);
            return;
        }

        var method = context.Request.Method;
        if (HttpMethods.IsPost(method))
        {
            await PostAsync(context).ConfigureAwait(false);
        }
        else if (HttpMethods.IsGet(method))
        {
            await GetAsync(context).ConfigureAwait(false);
        }
        else if (HttpMethods.IsDelete(method))
        {
            await DeleteAsync(context).ConfigureAwait(false);
        }
        else
        {
            context.Response.Headers.Allow = "GET, POST, DELETE";
            await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, default, McpErrorCode.InvalidRequest, $"{method} is not supported.").ConfigureAwait(false);
        }
    }

    private async Task PostAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsJsonContent(request.ContentType))
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, default, McpErrorCode.InvalidRequest, "Unsupported Media Type: the body must be application/json.").ConfigureAwait(false);
            return;
        }

        var accept = request.Headers.Accept.ToString();
        if (!accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) || !accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, StatusCodes.Status406NotAcceptable, default, McpErrorCode.InvalidRequest, "Not Acceptable: the client must accept both application/json and text/event-stream.").ConfigureAwait(false);
            return;
        }

        if (request.ContentLength > _options.MaxRequestBodyBytes)
        {
            await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, default, McpErrorCode.InvalidRequest, $"The body is larger than the {_options.MaxRequestBodyBytes} bytes this proxy accepts.").ConfigureAwait(false);
            return;
        }

        JsonRpcMessage? message;
        try
        {
            message = await JsonSerializer.DeserializeAsync(request.Body, s_json.GetTypeInfo(typeof(JsonRpcMessage)), context.RequestAborted).ConfigureAwait(false) as JsonRpcMessage;
        }
        catch (JsonException ex)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, default, McpErrorCode.ParseError, $"Parse error: {ex.Message}").ConfigureAwait(false);
            return;
        }

        if (message is null)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, default, McpErrorCode.InvalidRequest, "Invalid request: the body is not a JSON-RPC message.").ConfigureAwait(false);
            return;
        }

        var id = message is JsonRpcMessageWithId withId ? withId.Id : default;
        var version = request.Headers[RevisionChecks.ProtocolVersionHeader].ToString();
        if ((RevisionChecks.CheckVersionHeader(version) ?? RevisionChecks.CheckEnvelope(version, message)) is { } refused)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, id, refused).ConfigureAwait(false);
            return;
        }

        if (RevisionChecks.IsPerRequest(version))
        {
            await PerRequestPostAsync(context, message, version, id).ConfigureAwait(false);
            return;
        }

        var sessionId = request.Headers[SessionHeader].ToString();
        ProxySession? session;
        if (string.IsNullOrEmpty(sessionId))
        {
            if (message is not JsonRpcRequest { Method: RequestMethods.Initialize })
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, id, McpErrorCode.InvalidRequest, "Bad Request: a Mcp-Session-Id header is required (only initialize starts a session).").ConfigureAwait(false);
                return;
            }

            session = await StartSessionAsync(context, id).ConfigureAwait(false);
            if (session is null)
            {
                return;
            }
        }
        else if (!_sessions.TryGetValue(sessionId, out session))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, id, McpErrorCode.InvalidRequest, "Session not found: it was closed or never existed; start a new one with initialize.").ConfigureAwait(false);
            return;
        }

        session.Touch(_time.GetUtcNow());
        context.Response.Headers[SessionHeader] = session.Id;
        if (message is JsonRpcRequest)
        {
            InitializeSseResponse(context);
        }

        // A request in flight keeps its session in use however long it runs: idle expiry must not cut off a slow
        // initialize (the back may be starting a process) or a long tool call.
        bool wrote;
        session.BeginUse();
        try
        {
            wrote = await session.Front.HandlePostRequestAsync(message, context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            session.EndUse(_time.GetUtcNow());
        }

        if (!wrote)
        {
            context.Response.ContentType = null;
            context.Response.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    /// <summary>
    /// A POST of a revision without sessions (2026-07-28): checked as the SDK's endpoint checks it, then answered on its
    /// own stream through the connection those requests share.
    /// </summary>
    private async Task PerRequestPostAsync(HttpContext context, JsonRpcMessage message, string version, RequestId id)
    {
        if ((RevisionChecks.CheckMethodHeaders(context.Request, message) ?? _perRequest.ParamHeaders.Check(context.Request, message)) is { } mismatch)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, id, McpErrorCode.HeaderMismatch, mismatch).ConfigureAwait(false);
            return;
        }

        if (RevisionChecks.CheckRequiredMeta(version, message) is { } missing)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, id, missing).ConfigureAwait(false);
            return;
        }

        if (RevisionChecks.IsRemovedMethod(message))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, id, McpErrorCode.MethodNotFound, $"Method '{((JsonRpcRequest)message).Method}' is not available on protocol version '{version}'.").ConfigureAwait(false);
            return;
        }

        await _perRequest.HandlePostAsync(context, message, version).ConfigureAwait(false);
    }

    private async Task<ProxySession?> StartSessionAsync(HttpContext context, RequestId id)
    {
        if (_sessions.Count >= _options.MaxSessions)
        {
            LogSessionLimit(_options.MaxSessions);
            context.Response.Headers.RetryAfter = "5";
            await ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, id, McpErrorCode.InternalError, $"The proxy already holds its limit of {_options.MaxSessions} sessions.").ConfigureAwait(false);
            return null;
        }

        ITransport back;
        try
        {
            back = await _connectBack(context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogBackFailed(ex.Message);
            await ErrorAsync(context, StatusCodes.Status502BadGateway, id, McpErrorCode.InternalError, $"The proxy could not open its connection to the server: {ex.Message}").ConfigureAwait(false);
            return null;
        }

        var sessionId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var front = new StreamableHttpServerTransport(_loggerFactory) { SessionId = sessionId };
        var session = new ProxySession(sessionId, front, back, _time.GetUtcNow());
        _sessions[sessionId] = session;
        session.Bridge = RunSessionAsync(session);
        LogSessionStarted(sessionId);
        return session;
    }

    private async Task RunSessionAsync(ProxySession session)
    {
        await Task.Yield();
        try
        {
            await McpMessageBridge.RunAsync(session.Front, session.Back, _logger, session.Stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _sessions.TryRemove(new KeyValuePair<string, ProxySession>(session.Id, session));
            LogSessionEnded(session.Id);
        }
    }

    private async Task GetAsync(HttpContext context)
    {
        if (await RefusedWithoutSessionsAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!_sessions.TryGetValue(context.Request.Headers[SessionHeader].ToString(), out var session))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, default, McpErrorCode.InvalidRequest, "Session not found.").ConfigureAwait(false);
            return;
        }

        if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, StatusCodes.Status406NotAcceptable, default, McpErrorCode.InvalidRequest, "Not Acceptable: the client must accept text/event-stream.").ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Response.Headers[SessionHeader] = session.Id;
        session.Touch(_time.GetUtcNow());
        session.BeginUse();
        try
        {
            await session.Front.HandleGetRequestAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (!context.Response.HasStarted)
        {
            // The SDK's transport takes one GET stream per session.
            await ErrorAsync(context, StatusCodes.Status409Conflict, default, McpErrorCode.InvalidRequest, ex.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            if (context.RequestAborted.IsCancellationRequested && !session.Stopping.IsCancellationRequested)
            {
                // The client closed its GET stream, most likely by exiting (the MCP Inspector CLI never sends DELETE);
                // the SDK's transport takes no second GET stream, so the session is now kept only while it is used.
                session.GetStreamDropped = true;
            }

            session.EndUse(_time.GetUtcNow());
        }
    }

    private async Task DeleteAsync(HttpContext context)
    {
        if (await RefusedWithoutSessionsAsync(context).ConfigureAwait(false))
        {
            return;
        }

        if (!_sessions.TryRemove(context.Request.Headers[SessionHeader].ToString(), out var session))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, default, McpErrorCode.InvalidRequest, "Session not found.").ConfigureAwait(false);
            return;
        }

        await session.StopAsync().ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>GET and DELETE belong to sessions: a revision without them (or an unknown one) is refused, as the SDK's endpoint refuses it.</summary>
    private static async Task<bool> RefusedWithoutSessionsAsync(HttpContext context)
    {
        var version = context.Request.Headers[RevisionChecks.ProtocolVersionHeader].ToString();
        if (RevisionChecks.CheckVersionHeader(version) is { } unknown)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, default, unknown).ConfigureAwait(false);
            return true;
        }

        if (!RevisionChecks.IsPerRequest(version))
        {
            return false;
        }

        context.Response.Headers.Allow = HttpMethods.Post;
        await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, default, McpErrorCode.InvalidRequest, $"Method Not Allowed: {context.Request.Method} is not part of protocol version '{version}' (it has no sessions); use POST.").ConfigureAwait(false);
        return true;
    }

    private void ExpireIdleSessions()
    {
        // A timer callback: nothing may escape it.
        try
        {
            ExpireIdleSessionsCore();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogExpiryFailed(ex);
        }
    }

    private void ExpireIdleSessionsCore()
    {
        var now = _time.GetUtcNow();
        foreach (var session in _sessions.Values)
        {
            // A session with a request in flight or its GET stream open is in use even when the client sends nothing.
            // One whose client dropped its GET stream is closed after the (short) abandoned timeout instead of the idle
            // one: its child process behind the server would otherwise count against the server's session limit.
            var limit = session.GetStreamDropped ? _options.AbandonedSessionTimeout : _options.SessionIdleTimeout;
            if (session.LastActivity < now - limit && !session.IsInUse && _sessions.TryRemove(new KeyValuePair<string, ProxySession>(session.Id, session)))
            {
                if (session.GetStreamDropped)
                {
                    LogSessionAbandoned(session.Id, limit.TotalSeconds);
                }
                else
                {
                    LogSessionExpired(session.Id, limit.TotalSeconds);
                }

                _ = session.StopAsync();
            }
        }
    }

    private bool IsAuthorized(HttpRequest request)
    {
        if (_token is null)
        {
            return true;
        }

        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), _token);
    }

    private bool IsAllowedHost(HttpRequest request)
    {
        if (!IsAllowed(request.Host.Host))
        {
            return false;
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsAllowed(uri.IsLoopback && uri.HostNameType == UriHostNameType.IPv6 ? "[::1]" : uri.Host));

        bool IsAllowed(string host) => _options.AllowedHosts.Any(allowed => string.Equals(allowed, host, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsJsonContent(string? contentType) =>
        contentType is not null && contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private static Task ErrorAsync(HttpContext context, int status, RequestId id, McpErrorCode code, string message) =>
        ErrorAsync(context, status, id, new JsonRpcErrorDetail { Code = (int)code, Message = message });

    private static async Task ErrorAsync(HttpContext context, int status, RequestId id, JsonRpcErrorDetail detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var error = new JsonRpcError { Id = id, Error = detail };
        await context.Response.WriteAsync(JsonSerializer.Serialize(error, s_json.GetTypeInfo(typeof(JsonRpcMessage))), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The headers of a response that streams SSE, unbuffered, as the SDK's endpoint sends them.</summary>
    internal static void InitializeSseResponse(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _expiry.DisposeAsync().ConfigureAwait(false);
        await _perRequest.DisposeAsync().ConfigureAwait(false);
        foreach (var session in _sessions.Values)
        {
            await session.StopAsync().ConfigureAwait(false);
        }

        _sessions.Clear();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a request for host '{Host}' (Origin '{Origin}'): not an allowed host (DNS rebinding protection).")]
    private partial void LogRefusedHost(string host, string origin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a new session: the proxy holds its limit of {Limit} sessions.")]
    private partial void LogSessionLimit(int limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The back connection of a new session could not be opened: {Error}")]
    private partial void LogBackFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP session {SessionId} started.")]
    private partial void LogSessionStarted(string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Expiring idle sessions failed; it is tried again on the next sweep.")]
    private partial void LogExpiryFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP session {SessionId} was closed after {IdleSeconds:F0} s without requests.")]
    private partial void LogSessionExpired(string sessionId, double idleSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP session {SessionId} was closed {IdleSeconds:F0} s after its client dropped its GET stream and went quiet (the client has gone).")]
    private partial void LogSessionAbandoned(string sessionId, double idleSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP session {SessionId} ended.")]
    private partial void LogSessionEnded(string sessionId);

    private sealed class ProxySession(string id, StreamableHttpServerTransport front, ITransport back, DateTimeOffset now)
    {
        private long _lastActivityTicks = now.UtcTicks;

        // Requests in flight plus open GET streams.
        private int _inUse;

        public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

        /// <summary>Whether a request is in flight or a GET stream open: then the session is in use even when the client sends nothing.</summary>
        public bool IsInUse => Volatile.Read(ref _inUse) != 0;

        /// <summary>Whether the client closed the session's GET stream (the SDK's transport takes no second one).</summary>
        public volatile bool GetStreamDropped;

        public void Touch(DateTimeOffset when) => Interlocked.Exchange(ref _lastActivityTicks, when.UtcTicks);

        /// <summary>A request or GET stream starts; pair it with <see cref="EndUse"/> in a finally.</summary>
        public void BeginUse() => Interlocked.Increment(ref _inUse);

        /// <summary>A request or GET stream has ended: the idle time counts from <paramref name="now"/>.</summary>
        public void EndUse(DateTimeOffset now)
        {
            Interlocked.Decrement(ref _inUse);
            Touch(now);
        }

        public string Id { get; } = id;

        public StreamableHttpServerTransport Front { get; } = front;

        public ITransport Back { get; } = back;

        public CancellationTokenSource Stopping { get; } = new();

        public Task Bridge { get; set; } = Task.CompletedTask;

        public async Task StopAsync()
        {
            try
            {
                await Stopping.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }

            await Bridge.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
