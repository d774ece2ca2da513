using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AsyncMcp.Proxy.Bridging;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Http;

/// <summary>
/// Serves the requests of the per-request-metadata protocol revisions (2026-07-28), which have no session, the way the
/// SDK's own endpoint serves them statelessly: each POST is answered on its own response stream. They all travel over
/// one back connection, shared by every client of the front, whose server side is one session-less context (one child
/// process behind <c>asyncmcp serve</c>); that is also where a tool that asked for input (an <c>input_required</c>
/// result) finds its continuation when the client calls again.
/// </summary>
/// <remarks>
/// Clients choose their JSON-RPC ids and progress tokens freely, so on the shared connection each request gets an id of
/// the proxy's and its progress token is replaced by that id; answers, progress and subscription notifications are
/// matched by it and restored. A log message carries no link to its request on the wire (stdio and queues have none):
/// it goes to the newest request in flight that asked for log messages (<c>_meta</c> log level), and is dropped when none
/// did. Requests the server sends to the client are refused, as the SDK's stateless endpoint refuses them: on these
/// revisions a server asks for input with an <c>input_required</c> result.
/// </remarks>
internal sealed partial class PerRequestForwarder : IAsyncDisposable
{
    // Log messages are deprecated by revision 2026-07-28 but still sent to requests that ask for them.
    private const string LoggingMessageMethod = "notifications/message";
    private const string LogLevelKey = "io.modelcontextprotocol/logLevel";
    private const string SubscriptionIdKey = "io.modelcontextprotocol/subscriptionId";

    private readonly Func<CancellationToken, Task<ITransport>> _connectBack;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly ConcurrentDictionary<long, Exchange> _exchanges = new();
    private readonly CancellationTokenSource _disposing = new();
    private BackConnection? _back;
    private long _nextId;
    private int _disposed;

    public PerRequestForwarder(Func<CancellationToken, Task<ITransport>> connectBack, ILoggerFactory loggerFactory)
    {
        _connectBack = connectBack;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<PerRequestForwarder>();
    }

    /// <summary>The <c>Mcp-Param-*</c> header checks, which learn the tools' schemas from the <c>tools/list</c> results passing through.</summary>
    public ParamHeaderChecks ParamHeaders { get; } = new();

    /// <summary>Answers one POST of a per-request-metadata revision; the checks of its headers and <c>_meta</c> are done.</summary>
    public async Task HandlePostAsync(HttpContext context, JsonRpcMessage message, string protocolVersion)
    {
        if (message is not JsonRpcRequest request)
        {
            // Notifications and responses of a revision without sessions concern no request the proxy could find
            // (ids are per client): accepted, as the SDK's stateless endpoint accepts them, and not forwarded.
            LogNotForwarded(message is JsonRpcNotification notification ? notification.Method : "(a response)");
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        message.Context = new JsonRpcMessageContext { ProtocolVersion = protocolVersion };

        // The SDK's stateless transport writes the answer (and the progress before it) as SSE, and lets the first
        // message choose the status line, as its own endpoint does for these revisions.
        var front = new StreamableHttpServerTransport(_loggerFactory) { Stateless = true };
        await using var frontScope = front.ConfigureAwait(false);
        StreamableHttpProxy.InitializeSseResponse(context);
        var handling = front.HandlePostRequestAsync(message, context.Response.Body, first => SetStatus(context, first), context.RequestAborted);
        Exchange? exchange = null;
        try
        {
            var received = await front.MessageReader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            var route = received.Context?.RelatedTransport ?? throw new InvalidOperationException("The SDK's transport gave the request no response stream.");
            exchange = await ForwardAsync(request, route, context.RequestAborted).ConfigureAwait(false);
            await handling.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: the server is told to stop, below.
        }
        finally
        {
            await ((Task)handling).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (exchange is not null && _exchanges.TryRemove(exchange.BackId, out _) && !exchange.Answered)
            {
                await CancelAsync(exchange).ConfigureAwait(false);
            }
        }
    }

    private async Task<Exchange?> ForwardAsync(JsonRpcRequest request, ITransport route, CancellationToken cancellationToken)
    {
        BackConnection back;
        try
        {
            back = await GetBackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogBackFailed(ex.Message);
            await AnswerAsync(route, request.Id, McpErrorCode.InternalError, $"The proxy could not open its connection to the server: {ex.Message}").ConfigureAwait(false);
            return null;
        }

        var backId = Interlocked.Increment(ref _nextId);
        var parameters = request.Params?.DeepClone() as JsonObject;
        var meta = parameters?["_meta"] as JsonObject;
        var progressToken = meta?["progressToken"]?.DeepClone();
        if (progressToken is not null)
        {
            meta!["progressToken"] = backId;
        }

        var exchange = new Exchange(backId, request.Id, request.Method, route, back, progressToken, meta?[LogLevelKey] is not null);
        _exchanges[backId] = exchange;
        try
        {
            await back.Transport.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(backId), Method = request.Method, Params = parameters ?? request.Params }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogForwardFailed(request.Method, ex.Message);
            if (_exchanges.TryRemove(backId, out _))
            {
                await AnswerAsync(route, request.Id, McpErrorCode.InternalError, $"The MCP server behind this proxy could not be reached: {ex.Message}").ConfigureAwait(false);
            }
        }

        return exchange;
    }

    private async Task<BackConnection> GetBackAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _back) is { IsOpen: true } open)
        {
            return open;
        }

        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_back is { IsOpen: true } current)
            {
                return current;
            }

            var transport = await _connectBack(cancellationToken).ConfigureAwait(false);
            var back = new BackConnection(transport);
            back.Pump = Task.Run(() => PumpAsync(back), CancellationToken.None);
            _back = back;
            LogBackOpened();
            return back;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task PumpAsync(BackConnection back)
    {
        try
        {
            await foreach (var message in back.Transport.MessageReader.ReadAllAsync(_disposing.Token).ConfigureAwait(false))
            {
                try
                {
                    await DispatchAsync(back, message).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogDispatchFailed(DescribeKind(message), ex.Message);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (!_disposing.IsCancellationRequested)
            {
                LogBackClosed(ex.Message);
            }
        }

        // The connection is gone: requests still waiting on it are answered, and the next request opens a new one.
        back.IsOpen = false;
        if (!_disposing.IsCancellationRequested)
        {
            try
            {
                await back.Transport.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogForwardFailed("(close)", ex.Message);
            }
        }

        foreach (var exchange in _exchanges.Values.Where(e => e.Back == back).ToArray())
        {
            if (_exchanges.TryRemove(exchange.BackId, out _))
            {
                await AnswerAsync(exchange.Route, exchange.ClientId, McpErrorCode.InternalError, "The connection to the MCP server behind this proxy closed before the answer came; send the request again.").ConfigureAwait(false);
            }
        }
    }

    private async Task DispatchAsync(BackConnection back, JsonRpcMessage message)
    {
        switch (message)
        {
            case JsonRpcResponse response when Find(response.Id) is { } exchange:
                exchange.Answered = true;
                if (exchange.Method == RequestMethods.ToolsList)
                {
                    ParamHeaders.Learn(response.Result);
                }

                await SendQuietlyAsync(exchange.Route, new JsonRpcResponse { Id = exchange.ClientId, Result = response.Result }).ConfigureAwait(false);
                break;
            case JsonRpcError error when Find(error.Id) is { } exchange:
                exchange.Answered = true;
                await SendQuietlyAsync(exchange.Route, new JsonRpcError { Id = exchange.ClientId, Error = error.Error }).ConfigureAwait(false);
                break;
            case JsonRpcRequest request:
                // The SDK's stateless endpoint cannot send requests to its clients either; an input_required result is
                // how a server asks on these revisions.
                LogServerRequestRefused(request.Method);
                await SendQuietlyAsync(back.Transport, new JsonRpcError
                {
                    Id = request.Id,
                    Error = new JsonRpcErrorDetail
                    {
                        Code = (int)McpErrorCode.MethodNotFound,
                        Message = $"'{request.Method}' cannot reach a client of protocol revision 2026-07-28 (it has no session); ask for input with an input_required result instead.",
                    },
                }).ConfigureAwait(false);
                break;
            case JsonRpcNotification notification:
                await DispatchNotificationAsync(notification).ConfigureAwait(false);
                break;
            default:
                LogNotificationDropped("(a response to no request in flight)");
                break;
        }
    }

    private async Task DispatchNotificationAsync(JsonRpcNotification notification)
    {
        var parameters = notification.Params as JsonObject;
        Exchange? target = null;
        if (notification.Method == NotificationMethods.ProgressNotification && parameters?["progressToken"] is JsonValue token && TryReadId(token, out var progressId) &&
            _exchanges.TryGetValue(progressId, out var progressOwner) && progressOwner.ProgressToken is not null)
        {
            parameters = (JsonObject)parameters.DeepClone();
            parameters["progressToken"] = progressOwner.ProgressToken.DeepClone();
            target = progressOwner;
        }
        else if (parameters?["_meta"] is JsonObject meta && meta[SubscriptionIdKey] is JsonValue subscription && TryReadId(subscription, out var subscriptionId) &&
            _exchanges.TryGetValue(subscriptionId, out var listener))
        {
            parameters = (JsonObject)parameters.DeepClone();
            ((JsonObject)parameters["_meta"]!)[SubscriptionIdKey] = IdNode(listener.ClientId);
            target = listener;
        }
        else if (notification.Method == LoggingMessageMethod)
        {
            // No link on the wire: the newest request in flight that asked for log messages.
            target = _exchanges.Values.Where(e => e.WantsLogs).MaxBy(e => e.BackId);
        }
        else if (notification.Method == NotificationMethods.CancelledNotification && parameters?["requestId"] is JsonValue cancelled && TryReadId(cancelled, out var cancelledId) &&
            _exchanges.TryGetValue(cancelledId, out var cancelledOwner))
        {
            parameters = (JsonObject)parameters.DeepClone();
            parameters["requestId"] = IdNode(cancelledOwner.ClientId);
            target = cancelledOwner;
        }

        if (target is null)
        {
            LogNotificationDropped(notification.Method);
            return;
        }

        await SendQuietlyAsync(target.Route, new JsonRpcNotification { Method = notification.Method, Params = parameters }).ConfigureAwait(false);
    }

    private Exchange? Find(RequestId id) =>
        id.Id is long backId && _exchanges.TryGetValue(backId, out var exchange) ? exchange : null;

    private static JsonValue IdNode(RequestId id) => id.Id is long number ? JsonValue.Create(number) : JsonValue.Create(id.Id?.ToString() ?? string.Empty);

    private static bool TryReadId(JsonValue value, out long id)
    {
        if (value.TryGetValue(out id))
        {
            return true;
        }

        return value.TryGetValue<string>(out var text) && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    private async Task CancelAsync(Exchange exchange)
    {
        if (!exchange.Back.IsOpen)
        {
            return;
        }

        LogCancelled(exchange.BackId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await exchange.Back.Transport.SendMessageAsync(
                new JsonRpcNotification
                {
                    Method = NotificationMethods.CancelledNotification,
                    Params = new JsonObject { ["requestId"] = exchange.BackId, ["reason"] = "The client closed its request." },
                },
                timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogForwardFailed(NotificationMethods.CancelledNotification, ex.Message);
        }
    }

    private static ValueTask SetStatus(HttpContext context, JsonRpcMessage? first)
    {
        if (first is JsonRpcError { Error: { } error } && !context.Response.HasStarted)
        {
            context.Response.StatusCode = error.Code switch
            {
                (int)McpErrorCode.MethodNotFound => StatusCodes.Status404NotFound,
                (int)McpErrorCode.UnsupportedProtocolVersion or (int)McpErrorCode.MissingRequiredClientCapability or (int)McpErrorCode.HeaderMismatch => StatusCodes.Status400BadRequest,
                _ => context.Response.StatusCode,
            };
        }

        return ValueTask.CompletedTask;
    }

    private static Task AnswerAsync(ITransport route, RequestId id, McpErrorCode code, string message) =>
        SendQuietlyAsync(route, new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = (int)code, Message = message } });

    private static async Task SendQuietlyAsync(ITransport route, JsonRpcMessage message)
    {
        try
        {
            await route.SendMessageAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // The client's stream (or the back connection) has gone; nothing else can be told.
        }
    }

    private static string DescribeKind(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest r => $"request '{r.Method}'",
        JsonRpcNotification n => $"notification '{n.Method}'",
        JsonRpcResponse => "response",
        JsonRpcError => "error",
        _ => "message",
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        await _connectGate.WaitAsync().ConfigureAwait(false);
        var back = _back;
        _back = null;
        _connectGate.Release();
        if (back is not null)
        {
            try
            {
                await back.Transport.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogForwardFailed("(close)", ex.Message);
            }

            await back.Pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _disposing.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened the shared back connection for requests of protocol revision 2026-07-28.")]
    private partial void LogBackOpened();

    [LoggerMessage(Level = LogLevel.Error, Message = "The shared back connection for requests of protocol revision 2026-07-28 could not be opened: {Error}")]
    private partial void LogBackFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The shared back connection for requests of protocol revision 2026-07-28 closed: {Error}")]
    private partial void LogBackClosed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {What} could not be forwarded to the server: {Error}")]
    private partial void LogForwardFailed(string what, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Kind} from the server could not be passed on: {Error}")]
    private partial void LogDispatchFailed(string kind, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused the server's request '{Method}': clients of protocol revision 2026-07-28 take no requests (the server should return an input_required result).")]
    private partial void LogServerRequestRefused(string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A POSTed '{Method}' of protocol revision 2026-07-28 was accepted and not forwarded: it concerns no request the proxy can find.")]
    private partial void LogNotForwarded(string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped the server's '{Method}': no request in flight it belongs to.")]
    private partial void LogNotificationDropped(string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {BackId} was closed by its client before its answer; told the server to cancel it.")]
    private partial void LogCancelled(long backId);

    private sealed class BackConnection(ITransport transport)
    {
        public ITransport Transport { get; } = transport;

        public Task Pump { get; set; } = Task.CompletedTask;

        public volatile bool IsOpen = true;
    }

    /// <summary>One request in flight: the client's id and progress token, and the response stream it waits on.</summary>
    private sealed class Exchange(long backId, RequestId clientId, string method, ITransport route, BackConnection back, JsonNode? progressToken, bool wantsLogs)
    {
        public long BackId { get; } = backId;

        public RequestId ClientId { get; } = clientId;

        public string Method { get; } = method;

        public ITransport Route { get; } = route;

        public BackConnection Back { get; } = back;

        public JsonNode? ProgressToken { get; } = progressToken;

        public bool WantsLogs { get; } = wantsLogs;

        public volatile bool Answered;
    }
}
