using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Client;

/// <summary>
/// One hybrid client session: the SDK's Streamable HTTP session, plus webhook deliveries merged into what the client
/// reads. The acknowledgement that answers a webhook tool's POST is held back; the result that follows by webhook (or,
/// when the webhook failed, on the GET stream) completes the request instead, once, whichever way it comes.
/// </summary>
internal sealed partial class HybridClientSessionTransport : ITransport
{
    private const int MaxEarlyResults = 1024;
    private const int RememberedResults = 4096;

    private readonly ITransport _inner;
    private readonly PushMessageSource? _deliveries;
    private readonly string? _webhookUrl;
    private readonly OwnedResources _resources;
    private readonly ILogger _logger;
    private readonly Channel<JsonRpcMessage> _incoming = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly HashSet<string> _awaiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonRpcMessage> _early = new(StringComparer.Ordinal);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private readonly Queue<string> _doneOrder = new();
    private Task _innerPump = Task.CompletedTask;
    private Task _deliveryPump = Task.CompletedTask;
    private int _disposed;

    public HybridClientSessionTransport(ITransport inner, PushMessageSource? deliveries, string? webhookUrl, OwnedResources resources, ILogger logger)
    {
        _inner = inner;
        _deliveries = deliveries;
        _webhookUrl = webhookUrl;
        _resources = resources;
        _logger = logger;
    }

    /// <inheritdoc />
    public string? SessionId => _inner.SessionId;

    /// <inheritdoc />
    public ChannelReader<JsonRpcMessage> MessageReader => _incoming.Reader;

    public void Start()
    {
        _innerPump = Task.Run(PumpInnerAsync);
        if (_deliveries is not null)
        {
            _deliveryPump = Task.Run(PumpDeliveriesAsync);
        }
    }

    /// <inheritdoc />
    public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_webhookUrl is not null)
        {
            // Every request names the webhook: initialize for a session, and each request of a sessionless client
            // (protocol revision 2026-07-28). A cancellation names it too, so a sessionless server finds the call.
            switch (message)
            {
                case JsonRpcRequest request:
                    request.Params = WithWebhook(request.Params);
                    break;
                case JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled:
                    cancelled.Params = WithWebhook(cancelled.Params);
                    break;
            }
        }

        return _inner.SendMessageAsync(message, cancellationToken);
    }

    private JsonNode? WithWebhook(JsonNode? parameters)
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
        return target;
    }

    private async Task PumpInnerAsync()
    {
        try
        {
            await foreach (var message in _inner.MessageReader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (message is JsonRpcResponse response && IsAcknowledgement(response))
                {
                    OnAcknowledged(response.Id);
                    continue;
                }

                if (message is JsonRpcMessageWithId result and (JsonRpcResponse or JsonRpcError))
                {
                    OnResult(result, byWebhook: false);
                    continue;
                }

                Deliver(message);
            }

            _incoming.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            _incoming.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _incoming.Writer.TryComplete(ex);
        }
    }

    private async Task PumpDeliveriesAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var batch = await _deliveries!.ReceiveAsync(64, _stopping.Token).ConfigureAwait(false);
                foreach (var delivery in batch)
                {
                    var decoded = JsonRpcCodec.Decode(((PushedMessage)delivery).Body);
                    switch (decoded.Message)
                    {
                        case null:
                            LogBadDelivery(decoded.Error ?? "not a JSON-RPC message");
                            break;
                        case JsonRpcMessageWithId result and (JsonRpcResponse or JsonRpcError):
                            OnResult(result, byWebhook: true);
                            break;
                        case var message:
                            Deliver(message);
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private void OnAcknowledged(RequestId id)
    {
        var key = id.ToString();
        JsonRpcMessage? early;
        lock (_gate)
        {
            if (_early.Remove(key, out early))
            {
                Remember(key);
            }
            else
            {
                _awaiting.Add(key);
            }
        }

        LogAcknowledged(key);
        if (early is not null)
        {
            Deliver(early);
        }
    }

    private void OnResult(JsonRpcMessageWithId result, bool byWebhook)
    {
        var key = result.Id.ToString();
        lock (_gate)
        {
            if (_done.Contains(key))
            {
                // Delivered once already (by webhook and again on the stream after a delivery that looked failed).
                return;
            }

            if (_awaiting.Remove(key))
            {
                Remember(key);
            }
            else if (byWebhook)
            {
                // The result overtook its acknowledgement: hold it until the acknowledgement is read.
                if (_early.Count < MaxEarlyResults)
                {
                    _early[key] = result;
                }

                return;
            }
        }

        Deliver(result);
    }

    private void Remember(string key)
    {
        _done.Add(key);
        _doneOrder.Enqueue(key);
        if (_doneOrder.Count > RememberedResults)
        {
            _done.Remove(_doneOrder.Dequeue());
        }
    }

    private void Deliver(JsonRpcMessage message)
    {
        if (!_incoming.Writer.TryWrite(message))
        {
            LogDroppedAfterClose();
        }
    }

    private static bool IsAcknowledgement(JsonRpcResponse response) =>
        response.Result is JsonObject result &&
        result["_meta"] is JsonObject meta &&
        meta[HybridMeta.Accepted] is JsonValue accepted &&
        accepted.GetValueKind() == JsonValueKind.True;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException)
        {
            LogCloseFailed(ex.Message);
        }

        await _resources.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_innerPump, _deliveryPump).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _incoming.Writer.TryComplete();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId} was accepted by the server; its result will come by webhook.")]
    private partial void LogAcknowledged(string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook delivery was not a JSON-RPC message and was ignored: {Error}")]
    private partial void LogBadDelivery(string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A message arrived after the session closed and was dropped.")]
    private partial void LogDroppedAfterClose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the HTTP session failed: {Error}")]
    private partial void LogCloseFailed(string error);
}
