using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Client;

/// <summary>
/// One hybrid client session: the SDK's Streamable HTTP session, plus webhook deliveries merged into what the client
/// reads. Every <c>tools/call</c> sent is remembered until its result comes; the acknowledgement that answers a webhook
/// tool's POST is held back, and the result that follows by webhook (or, when the webhook failed, on the GET stream)
/// completes the request instead, once, whichever way and in whichever order they come. A result that does not come
/// within the result timeout fails the call with a JSON-RPC error, and the server is told to stop it.
/// </summary>
internal sealed partial class HybridClientSessionTransport : ITransport
{
    private const int RememberedResults = 4096;

    private readonly ITransport _inner;
    private readonly PushedReplyFeed? _deliveries;
    private readonly string? _webhookUrl;
    private readonly TimeSpan _resultTimeout;
    private readonly TimeProvider _time;
    private readonly OwnedResources _resources;
    private readonly ILogger _logger;
    private readonly Channel<JsonRpcMessage> _incoming = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly BackgroundOperations _background = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PendingCall> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingCall> _byProgressToken = new(StringComparer.Ordinal);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private readonly Queue<string> _doneOrder = new();
    private Task _innerPump = Task.CompletedTask;
    private int _disposed;

    public HybridClientSessionTransport(ITransport inner, PushedReplyFeed? deliveries, string? webhookUrl, TimeSpan resultTimeout, TimeProvider time, OwnedResources resources, ILogger logger)
    {
        _inner = inner;
        _deliveries = deliveries;
        _webhookUrl = webhookUrl;
        _resultTimeout = resultTimeout;
        _time = time;
        _resources = resources;
        _logger = logger;
    }

    /// <inheritdoc />
    public string? SessionId => _inner.SessionId;

    /// <inheritdoc />
    public ChannelReader<JsonRpcMessage> MessageReader => _incoming.Reader;

    public void Start()
    {
        _innerPump = Task.Run(() => PumpInnerAsync(_stopping.Token));
        _deliveries?.Start(OnDeliveryAsync);
    }

    /// <inheritdoc />
    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        PendingCall? call = null;
        switch (message)
        {
            case JsonRpcRequest { Method: RequestMethods.ToolsCall } toolCall when _webhookUrl is not null:
                // Remembered before it is sent: its result can come by webhook before the POST is even answered.
                toolCall.Params = WithMeta(toolCall.Params, acknowledge: true);
                call = Track(toolCall);
                break;
            case JsonRpcRequest request when _webhookUrl is not null:
                // Every request names the webhook: initialize for a session, and each request of a sessionless client
                // (protocol revision 2026-07-28).
                request.Params = WithMeta(request.Params, acknowledge: false);
                break;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                // A cancellation names it too, so a sessionless server finds the call; a result that comes later is dropped.
                if (_webhookUrl is not null)
                {
                    cancelled.Params = WithMeta(cancelled.Params, acknowledge: false);
                }

                Forget(cancelled.Params is JsonObject p && p["requestId"] is JsonValue id ? KeyOf(id) : null);
                break;
        }

        if (call is null)
        {
            await _inner.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        await SendCallAsync(message, call, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// POSTs a <c>tools/call</c> and returns when the POST is done or the call is: a server may never answer a webhook
    /// tool's POST (asyncmcp's hybrid server keeps its SSE stream open, or its JSON POST waiting, after sending the result
    /// by webhook), and the SDK returns from a call only once its send has returned. When the result arrives by webhook
    /// (or the call times out, or is cancelled) while the POST is still open, the POST is ended.
    /// </summary>
    private async Task SendCallAsync(JsonRpcMessage message, PendingCall call, CancellationToken cancellationToken)
    {
        using var post = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sending = _inner.SendMessageAsync(message, post.Token);
        try
        {
            if (await Task.WhenAny(sending, call.Settled.Task).ConfigureAwait(false) != sending &&
                call.Settled.Task.Result &&
                !sending.IsCompleted)
            {
                LogPostEnded(call.Key);
                await post.CancelAsync().ConfigureAwait(false);
                await sending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return;
            }

            await sending.ConfigureAwait(false);
        }
        catch (Exception ex) when (call.Settled.Task.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            // The call has its answer already; what became of its POST (it ended without one, say) no longer matters.
            LogPostFailedAfterResult(call.Key, ex.Message);
        }
        catch
        {
            Forget(call.Key);
            throw;
        }
    }

    private JsonNode? WithMeta(JsonNode? parameters, bool acknowledge)
    {
        if (parameters is not null and not JsonObject)
        {
            return parameters;
        }

        var target = (JsonObject?)parameters ?? new JsonObject();
        if (target["_meta"] is not JsonObject meta)
        {
            meta = new JsonObject();
            target["_meta"] = meta;
        }

        meta[HybridMeta.WebhookUrl] ??= _webhookUrl;
        if (acknowledge)
        {
            // Opts in to the acknowledgement: a server answers a webhook call's POST with one instead of nothing.
            meta[HybridMeta.Acknowledge] = true;
        }

        return target;
    }

    private PendingCall Track(JsonRpcRequest request)
    {
        var call = new PendingCall(request.Id, ToolName(request), ProgressToken(request));
        lock (_gate)
        {
            _pending[call.Key] = call;
            if (call.ProgressToken is { } token)
            {
                _byProgressToken[token] = call;
            }
        }

        return call;
    }

    private async Task PumpInnerAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _inner.MessageReader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (message)
                {
                    case JsonRpcResponse response when HybridMeta.IsAcknowledgement(response):
                        OnAcknowledged(response.Id);
                        break;
                    case JsonRpcMessageWithId result and (JsonRpcResponse or JsonRpcError):
                        OnResult(result, byWebhook: false);
                        break;
                    default:
                        OnOther(message);
                        break;
                }
            }

            _incoming.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _incoming.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _incoming.Writer.TryComplete(ex);
        }
    }

    /// <summary>A delivery to the client's webhook, handed over by the receiver's request.</summary>
    private Task OnDeliveryAsync(IInboundMessage delivery, CancellationToken cancellationToken)
    {
        var decoded = JsonRpcCodec.Decode(delivery.Body);
        switch (decoded.Message)
        {
            case null:
                LogBadDelivery(decoded.Error ?? "not a JSON-RPC message");
                break;
            case JsonRpcMessageWithId result and (JsonRpcResponse or JsonRpcError):
                OnResult(result, byWebhook: true);
                break;
            case var message:
                OnOther(message);
                break;
        }

        return Task.CompletedTask;
    }

    private void OnAcknowledged(RequestId id)
    {
        var key = id.ToString();
        lock (_gate)
        {
            if (_pending.TryGetValue(key, out var call))
            {
                // The result is on its way by webhook: from now on it has the result timeout to arrive.
                call.Acknowledged = true;
                Restart(call);
            }
        }

        LogAcknowledged(key);
    }

    private void OnResult(JsonRpcMessageWithId result, bool byWebhook)
    {
        var key = result.Id.ToString();
        lock (_gate)
        {
            if (_done.Contains(key))
            {
                // Delivered once already (by webhook and again on the stream after a delivery that looked failed), or
                // given up on (cancelled, timed out).
                LogDuplicateResult(key);
                return;
            }

            if (_pending.Remove(key, out var call))
            {
                // A result on the stream came on the call's own POST, which ends by itself; any other way, the POST may
                // still be open, waiting for an answer that will not come.
                Finish(call, endPost: byWebhook);
            }
            else if (byWebhook)
            {
                // Not a call of this connection: the SDK would not match it either.
                LogStrayResult(key);
                return;
            }
        }

        Deliver(result);
    }

    private void OnOther(JsonRpcMessage message)
    {
        if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: JsonObject parameters } &&
            parameters["progressToken"] is JsonValue token)
        {
            lock (_gate)
            {
                if (_byProgressToken.TryGetValue(KeyOf(token), out var call) && call.Acknowledged)
                {
                    // Still working: the result timeout starts again.
                    Restart(call);
                }
            }
        }

        Deliver(message);
    }

    /// <summary>The client gave up on a request (it cancelled it): a result that comes later is dropped.</summary>
    private void Forget(string? key)
    {
        if (key is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_pending.Remove(key, out var call))
            {
                Finish(call);
            }
        }
    }

    /// <summary>Must hold <see cref="_gate"/>.</summary>
    private void Finish(PendingCall call, bool endPost = true)
    {
        call.Settled.TrySetResult(endPost);
        call.Timer?.Dispose();
        call.Timer = null;
        if (call.ProgressToken is { } token)
        {
            _byProgressToken.Remove(token);
        }

        _done.Add(call.Key);
        _doneOrder.Enqueue(call.Key);
        if (_doneOrder.Count > RememberedResults)
        {
            _done.Remove(_doneOrder.Dequeue());
        }
    }

    /// <summary>Must hold <see cref="_gate"/>.</summary>
    private void Restart(PendingCall call)
    {
        if (_resultTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (call.Timer is { } timer)
        {
            timer.Change(_resultTimeout, Timeout.InfiniteTimeSpan);
            return;
        }

        call.Timer = _time.CreateTimer(static state => ((TimedOut)state!).Fire(), new TimedOut(this, call), _resultTimeout, Timeout.InfiniteTimeSpan);
    }

    private void OnTimedOut(PendingCall call)
    {
        lock (_gate)
        {
            if (!_pending.Remove(call.Key, out var current) || current != call)
            {
                return;
            }

            Finish(call);
        }

        LogResultTimedOut(call.Key, call.Tool, _resultTimeout.TotalSeconds);
        Deliver(JsonRpcErrors.Create(
            call.Id,
            McpErrorCode.InternalError,
            $"No result for '{call.Tool}' (request {call.Key}) arrived within {_resultTimeout.TotalSeconds:F0} s of its acknowledgement or its last progress (HybridClientTransportOptions.ResultTimeout). " +
            "The server accepted the call but its result did not reach this client's webhook or stream; the call was cancelled.",
            ErrorReasons.ResultTimeout));

        // Tell the server to stop the tool, or to drop a result it keeps: nobody is waiting for it any more.
        _background.TryRun(() => CancelOnServerAsync(call, _stopping.Token));
    }

    private async Task CancelOnServerAsync(PendingCall call, CancellationToken cancellationToken)
    {
        try
        {
            var notification = new JsonRpcNotification
            {
                Method = NotificationMethods.CancelledNotification,
                Params = WithMeta(
                    new JsonObject
                    {
                        ["requestId"] = JsonSerializer.SerializeToNode(call.Id, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(RequestId))),
                        ["reason"] = "No result arrived within the client's result timeout.",
                    },
                    acknowledge: false),
            };
            await _inner.SendMessageAsync(notification, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Best effort: the server discards the result when its retention ends anyway.
            LogCancelFailed(call.Key, ex.Message);
        }
    }

    private void Deliver(JsonRpcMessage message)
    {
        if (!_incoming.Writer.TryWrite(message))
        {
            LogDroppedAfterClose();
        }
    }

    private static string ToolName(JsonRpcRequest request) =>
        request.Params is JsonObject p && p["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String ? name.GetValue<string>() : "(unnamed tool)";

    private static string? ProgressToken(JsonRpcRequest request) =>
        request.Params is JsonObject p && p["_meta"] is JsonObject meta && meta["progressToken"] is JsonValue token ? KeyOf(token) : null;

    /// <summary>An id or progress token as <see cref="RequestId.ToString"/> and <see cref="ProgressToken.ToString"/> write it: a string as is, a number as its digits.</summary>
    private static string KeyOf(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _background.DrainAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var call in _pending.Values)
            {
                call.Timer?.Dispose();
            }

            _pending.Clear();
            _byProgressToken.Clear();
        }

        try
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException)
        {
            LogCloseFailed(ex.Message);
        }

        await _resources.DisposeAsync().ConfigureAwait(false);
        await _innerPump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _incoming.Writer.TryComplete();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId} was accepted by the server; its result will come by webhook.")]
    private partial void LogAcknowledged(string requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId} is done (its result came by webhook, or it timed out or was cancelled) while its POST was still open; the POST was ended.")]
    private partial void LogPostEnded(string requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The POST of request {RequestId} failed after the call had its answer: {Error}")]
    private partial void LogPostFailedAfterResult(string requestId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook delivery was not a JSON-RPC message and was ignored: {Error}")]
    private partial void LogBadDelivery(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A second result for request {RequestId} (or one for a request given up on) was dropped.")]
    private partial void LogDuplicateResult(string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook delivery carried a result for request {RequestId}, which this connection is not waiting for; it was dropped.")]
    private partial void LogStrayResult(string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No result for request {RequestId} ('{Tool}') arrived within {TimeoutSeconds:F0} s (ResultTimeout); the call fails and the server is asked to cancel it.")]
    private partial void LogResultTimedOut(string requestId, string tool, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Telling the server that request {RequestId} was given up on failed: {Error}")]
    private partial void LogCancelFailed(string requestId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A message arrived after the session closed and was dropped.")]
    private partial void LogDroppedAfterClose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the HTTP session failed: {Error}")]
    private partial void LogCloseFailed(string error);

    /// <summary>A <c>tools/call</c> sent and not yet answered.</summary>
    private sealed class PendingCall(RequestId id, string tool, string? progressToken)
    {
        public RequestId Id { get; } = id;

        public string Key { get; } = id.ToString();

        public string Tool { get; } = tool;

        public string? ProgressToken { get; } = progressToken;

        /// <summary>Whether the server acknowledged it (its result comes by webhook).</summary>
        public bool Acknowledged { get; set; }

        /// <summary>The result timeout, running once acknowledged.</summary>
        public ITimer? Timer { get; set; }

        /// <summary>Completes when the call is done (its result came, it timed out, it was given up on): with whether its POST, if still open, should be ended.</summary>
        public TaskCompletionSource<bool> Settled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class TimedOut(HybridClientSessionTransport owner, PendingCall call)
    {
        public void Fire()
        {
            // A timer callback: nothing may escape it.
            try
            {
                owner.OnTimedOut(call);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                owner.LogCancelFailed(call.Key, ex.Message);
            }
        }
    }
}
