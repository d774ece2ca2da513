using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// Forwards JSON-RPC messages, unchanged, between the client-facing side of a session and a connection to an MCP
/// server, in both directions, until either side closes. Nothing is interpreted except routing: an answer (and the
/// progress of a request) goes back on the transport its request came in on (its POST's stream on Streamable HTTP;
/// for a session-less request of protocol revision 2026-07-28, the request's own reply transport). A request the server
/// sends (sampling, elicitation, roots) goes the same way as the newest tool call in flight, or else the newest request in
/// flight, since it is asked on behalf of one of them and neither stdio nor the queues say which: a Streamable HTTP
/// client then gets it on a stream it is reading, as the SDK's own endpoint sends it, without having to open the
/// optional GET stream.
/// </summary>
public static partial class McpMessageBridge
{
    /// <summary>Runs the bridge until one side closes or <paramref name="cancellationToken"/> is cancelled; both sides are then disposed.</summary>
    /// <param name="clientSide">The session's transport towards the MCP client (a server-side transport).</param>
    /// <param name="serverSide">The connection to the MCP server (a client-side transport).</param>
    /// <param name="logger">Logs what could not be forwarded.</param>
    /// <param name="cancellationToken">Stops the bridge.</param>
    /// <returns>A task that completes when the bridge has stopped.</returns>
    public static async Task RunAsync(ITransport clientSide, ITransport serverSide, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientSide);
        ArgumentNullException.ThrowIfNull(serverSide);
        logger ??= NullLogger.Instance;
        var routes = new Routes();
        var requests = new RequestsInFlight();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toServer = PumpToServerAsync(clientSide, serverSide, routes, requests, logger, stop.Token);
        var toClient = PumpToClientAsync(serverSide, clientSide, routes, logger, stop.Token);
        await Task.WhenAny(toServer, toClient).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(toServer, toClient, requests.WhenAllAsync()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await DisposeQuietlyAsync(serverSide, logger).ConfigureAwait(false);
        await DisposeQuietlyAsync(clientSide, logger).ConfigureAwait(false);
    }

    /// <remarks>
    /// Requests are forwarded concurrently: sending one can last until it is answered (a Streamable HTTP connection
    /// answers on the request's own POST), and the next message must not wait for that; the handshake (<c>initialize</c>,
    /// <c>server/discover</c>) is the exception, since it sets up the connection. Everything else is forwarded in order, each once the one before it has been sent; a cancellation of a request still being sent stops that
    /// sending first and follows it, so it never overtakes the request it cancels.
    /// </remarks>
    private static async Task PumpToServerAsync(ITransport from, ITransport to, Routes routes, RequestsInFlight requests, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in from.MessageReader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is JsonRpcRequest request && message.Context?.RelatedTransport is { } related)
                {
                    routes.Remember(request, related);
                }

                // The context belongs to the side it came from.
                message.Context = null;
                switch (message)
                {
                    case JsonRpcRequest { Method: RequestMethods.Initialize or RequestMethods.ServerDiscover } handshake:
                        // The connection learns its session id and revision only when this send completes (the SDK's
                        // HTTP transport sets them after reading the answer it has already passed on): the client's next
                        // message, sent as soon as it has the answer, must not go out before that.
                        await ForwardRequestAsync(handshake, from, to, routes, logger, cancellationToken, cancellationToken).ConfigureAwait(false);
                        continue;
                    case JsonRpcRequest forwarded:
                        requests.Start(forwarded.Id, sending => ForwardRequestAsync(forwarded, from, to, routes, logger, sending, cancellationToken), cancellationToken);
                        continue;
                    case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled when RequestIdOf(cancelled) is { } id:
                        await requests.StopAsync(id).ConfigureAwait(false);
                        break;
                }

                try
                {
                    await to.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogForwardFailed(logger, "server", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task ForwardRequestAsync(JsonRpcRequest request, ITransport from, ITransport to, Routes routes, ILogger logger, CancellationToken sending, CancellationToken stopping)
    {
        try
        {
            await to.SendMessageAsync(request, sending).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (sending.IsCancellationRequested)
        {
            // The client cancelled the request (its cancellation follows), or the bridge is stopping.
        }
        catch (Exception ex)
        {
            LogForwardFailed(logger, "server", ex.Message);
            try
            {
                await AnswerFailureAsync(request, routes.TakeAnswerRoute(request.Id) ?? from, ex.Message, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The bridge is stopping: nobody is left to tell.
            }
        }
    }

    private static RequestId? RequestIdOf(JsonRpcNotification cancelled)
    {
        try
        {
            return cancelled.Params?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CancelledNotificationParams))) is CancelledNotificationParams { RequestId: { Id: not null } id } ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task PumpToClientAsync(ITransport from, ITransport to, Routes routes, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in from.MessageReader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var target = message switch
                {
                    JsonRpcResponse response => routes.TakeAnswerRoute(response.Id),
                    JsonRpcError error => routes.TakeAnswerRoute(error.Id),
                    JsonRpcNotification notification => routes.NotificationRoute(notification),
                    JsonRpcRequest => routes.ServerRequestRoute(),
                    _ => null,
                } ?? to;
                message.Context = null;
                try
                {
                    await target.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogForwardFailed(logger, "client", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task AnswerFailureAsync(JsonRpcRequest request, ITransport route, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await route.SendMessageAsync(
                new JsonRpcError
                {
                    Id = request.Id,
                    Error = new JsonRpcErrorDetail { Code = (int)ModelContextProtocol.McpErrorCode.InternalError, Message = $"The MCP server behind this bridge could not be reached: {reason}" },
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The client side is gone too.
        }
    }

    private static async Task DisposeQuietlyAsync(ITransport transport, ILogger logger)
    {
        try
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDisposeFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message could not be forwarded to the {Side}: {Error}")]
    private static partial void LogForwardFailed(ILogger logger, string side, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a bridged transport failed: {Error}")]
    private static partial void LogDisposeFailed(ILogger logger, string error);

    /// <summary>The requests being sent to the server, each with its own way to stop its sending.</summary>
    private sealed class RequestsInFlight
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<RequestId, Sending> _byId = [];
        private readonly HashSet<Task> _running = [];

        public void Start(RequestId id, Func<CancellationToken, Task> send, CancellationToken stopping)
        {
            var sending = new Sending(CancellationTokenSource.CreateLinkedTokenSource(stopping));
            lock (_gate)
            {
                _byId[id] = sending;
            }

            var task = RunAsync(id, sending, send);
            sending.Task = task;
            lock (_gate)
            {
                _running.Add(task);
            }

            _ = task.ContinueWith(
                done =>
                {
                    lock (_gate)
                    {
                        _running.Remove(done);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        /// <summary>Stops sending a request, if it is still being sent, and waits until its sending has ended.</summary>
        public async Task StopAsync(RequestId id)
        {
            Sending? sending;
            lock (_gate)
            {
                _byId.TryGetValue(id, out sending);
            }

            if (sending?.Task is { IsCompleted: false } task)
            {
                try
                {
                    await sending.Cancel.CancelAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // Its sending ended meanwhile.
                }

                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        public Task WhenAllAsync()
        {
            lock (_gate)
            {
                return Task.WhenAll([.. _running]);
            }
        }

        private async Task RunAsync(RequestId id, Sending sending, Func<CancellationToken, Task> send)
        {
            try
            {
                await send(sending.Cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    if (_byId.TryGetValue(id, out var current) && current == sending)
                    {
                        _byId.Remove(id);
                    }
                }

                sending.Cancel.Dispose();
            }
        }

        private sealed class Sending(CancellationTokenSource cancel)
        {
            public CancellationTokenSource Cancel { get; } = cancel;

            public Task? Task { get; set; }
        }
    }

    /// <summary>Where answers and progress of session-less requests go back.</summary>
    private sealed class Routes
    {
        private readonly ConcurrentDictionary<RequestId, InFlight> _answers = new();
        private readonly ConcurrentDictionary<string, ITransport> _progress = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<RequestId, string> _tokens = new();
        private long _sequence;

        public void Remember(JsonRpcRequest request, ITransport related)
        {
            _answers[request.Id] = new InFlight(related, Interlocked.Increment(ref _sequence), request.Method == RequestMethods.ToolsCall);
            if (ProgressTokens.OfRequest(request.Params) is { } key)
            {
                _progress[key] = related;
                _tokens[request.Id] = key;
            }
        }

        public ITransport? TakeAnswerRoute(RequestId id)
        {
            if (_tokens.TryRemove(id, out var token))
            {
                _progress.TryRemove(token, out _);
            }

            return _answers.TryRemove(id, out var related) ? related.Route : null;
        }

        /// <summary>Where a request of the server goes: the stream of the newest tool call in flight, else of the newest request.</summary>
        public ITransport? ServerRequestRoute()
        {
            InFlight? newest = null;
            foreach (var candidate in _answers.Values)
            {
                if (newest is null || (candidate.IsToolCall, candidate.Sequence).CompareTo((newest.IsToolCall, newest.Sequence)) > 0)
                {
                    newest = candidate;
                }
            }

            return newest?.Route;
        }

        public ITransport? NotificationRoute(JsonRpcNotification notification) =>
            notification.Method == NotificationMethods.ProgressNotification &&
            ProgressTokens.OfNotification(notification.Params) is { } key &&
            _progress.TryGetValue(key, out var related)
                ? related
                : null;

        private sealed record InFlight(ITransport Route, long Sequence, bool IsToolCall);
    }
}
