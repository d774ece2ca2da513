using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Sends what a webhook call produces to the client's webhook: signed, checked against the reply-address policy
/// (also after DNS), retried with backoff. A result whose delivery finally fails goes on the session's GET stream if
/// one is open; otherwise it is kept for the session, offered again when the client comes back, and discarded (with
/// an error in the log) only when its retention ends.
/// </summary>
internal sealed partial class HybridDelivery : IAsyncDisposable
{
    /// <summary>The <c>messaging.system</c> on delivery spans.</summary>
    public const string MessagingSystem = "asyncmcp_hybrid";

    private readonly HybridServerTransportOptions _options;
    private readonly HybridSessionRegistry _registry;
    private readonly WebhookAddressGuard _guard;
    private readonly HttpClient _http;
    private readonly WebhookHttpSink _direct;
    private readonly NotificationLaneSink _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _sweep;
    private int _disposed;

    public HybridDelivery(HybridServerTransportOptions options, HybridSessionRegistry registry, ILoggerFactory? loggerFactory, TimeProvider? time = null)
    {
        _options = options;
        _registry = registry;
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger<HybridDelivery>() ?? NullLogger<HybridDelivery>.Instance;
        var signer = options.Security.Validate(nameof(HybridServerTransportOptions));
        Unsigned = signer is null;
        _guard = new WebhookAddressGuard(options.AddressPolicy, $"{nameof(HybridServerTransportOptions)}.{nameof(HybridServerTransportOptions.AddressPolicy)}");

        // Every connection is made by the guard, which checks each resolved address; redirects could point anywhere.
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = _guard.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _direct = new WebhookHttpSink(_http, signer, options.DeliveryTimeout, _time)
        {
            AddHeaders = static (message, headers) =>
            {
                if (message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId))
                {
                    headers.TryAddWithoutValidation(HybridMeta.SessionIdHeader, sessionId);
                }
            },
        };
        // A call's notifications go in order, each with its retries: one being retried is not overtaken by the next.
        _sink = new NotificationLaneSink(new RetryingMessageSink(_direct, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>())
        {
            MessagingSystem = MessagingSystem,
        });
        var period = TimeSpan.FromTicks(Math.Clamp(options.UndeliveredResultRetention.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _sweep = _time.CreateTimer(static state => ((HybridDelivery)state!).Sweep(), this, period, period);
    }

    /// <summary>Whether deliveries go out unsigned.</summary>
    public bool Unsigned { get; }

    /// <summary>Checks a client's webhook URL against the reply-address policy (including what its host resolves to).</summary>
    /// <returns>Why it is refused, or <see langword="null"/> when it may be used.</returns>
    public Task<string?> CheckAddressAsync(string webhookUrl, CancellationToken cancellationToken) => _guard.CheckAsync(webhookUrl, cancellationToken);

    /// <summary>
    /// Sends a notification or a request to the client by webhook, in order with the call's earlier ones. Failures are
    /// logged, not thrown: notifications are best effort, and a request simply gets no answer until it is cancelled.
    /// </summary>
    public async Task SendAsync(HybridSession session, string webhookUrl, JsonRpcMessage message, string orderingKey)
    {
        var outbound = OutboundMessageFactory.Create(message, _time.GetUtcNow(), session.SessionId, clientId: null, orderingKey: orderingKey);
        try
        {
            await _sink.SendAsync(webhookUrl, outbound, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            LogMessageNotDelivered(Describe(message), session.Label, webhookUrl, ex.Message);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Delivers a webhook call's result: by webhook, else on the open stream, else kept for the session.</summary>
    public async Task DeliverResultAsync(HybridSession session, string webhookUrl, JsonRpcMessageWithId result)
    {
        var outbound = OutboundMessageFactory.Create(result, _time.GetUtcNow(), session.SessionId, clientId: null);
        try
        {
            await _sink.SendAsync(webhookUrl, outbound, _stopping.Token).ConfigureAwait(false);
            LogResultDelivered(result.Id, session.Label);
            return;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            LogResultLostAtShutdown(result.Id, session.Label);
            return;
        }
        catch (Exception ex)
        {
            LogResultDeliveryFailed(result.Id, session.Label, webhookUrl, ex.Message);
        }

        if (await TrySendOnStreamAsync(session, result).ConfigureAwait(false))
        {
            LogResultSentOnStream(result.Id, session.Label);
            return;
        }

        Keep(session, new KeptResult(result, webhookUrl, _time.GetUtcNow() + _options.UndeliveredResultRetention));
    }

    /// <summary>A GET stream opened on the session: sends the results kept for it there.</summary>
    public void OnStreamOpened(HybridSession session)
    {
        if (session.KeptCount > 0)
        {
            _ = Task.Run(() => RedeliverAsync(session, tryWebhook: false));
        }
    }

    /// <summary>The client sent something: its webhook may be back, so kept results are offered again.</summary>
    public void OnClientActivity(HybridSession session)
    {
        if (session.KeptCount > 0)
        {
            _ = Task.Run(() => RedeliverAsync(session, tryWebhook: true));
        }
    }

    /// <summary>The session ended: its kept results can no longer be delivered.</summary>
    public void OnSessionEnded(HybridSession session)
    {
        foreach (var kept in session.TakeKept())
        {
            LogResultDiscarded(kept.Message.Id, session.Label, "the session ended");
        }
    }

    private async Task RedeliverAsync(HybridSession session, bool tryWebhook)
    {
        if (!session.TryBeginRedelivery())
        {
            return;
        }

        try
        {
            foreach (var kept in session.TakeKept())
            {
                if (tryWebhook)
                {
                    try
                    {
                        // One attempt: the client is here now, and a failure simply keeps the result again.
                        await _direct.SendAsync(kept.WebhookUrl, OutboundMessageFactory.Create(kept.Message, _time.GetUtcNow(), session.SessionId, clientId: null), _stopping.Token).ConfigureAwait(false);
                        LogResultRedelivered(kept.Message.Id, session.Label, "webhook");
                        continue;
                    }
                    catch (Exception ex) when (!_stopping.IsCancellationRequested)
                    {
                        LogRedeliveryFailed(kept.Message.Id, session.Label, ex.Message);
                    }
                }

                if (await TrySendOnStreamAsync(session, kept.Message).ConfigureAwait(false))
                {
                    LogResultRedelivered(kept.Message.Id, session.Label, "the GET stream");
                    continue;
                }

                if (session.Keep(kept, _options.MaxUndeliveredResultsPerSession) is { } evicted)
                {
                    LogResultDiscarded(evicted.Message.Id, session.Label, "too many undelivered results are kept for it");
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            session.EndRedelivery();
        }
    }

    private static async Task<bool> TrySendOnStreamAsync(HybridSession session, JsonRpcMessageWithId result)
    {
        if (!session.HasOpenStream)
        {
            return false;
        }

        try
        {
            await session.Server!.SendMessageAsync(result).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            return false;
        }
    }

    private void Keep(HybridSession session, KeptResult kept)
    {
        LogResultKept(kept.Message.Id, session.Label, _options.UndeliveredResultRetention.TotalSeconds);
        if (session.Keep(kept, _options.MaxUndeliveredResultsPerSession) is { } evicted)
        {
            LogResultDiscarded(evicted.Message.Id, session.Label, "too many undelivered results are kept for it");
        }
    }

    private void Sweep()
    {
        // A timer callback: nothing may escape it.
        try
        {
            SweepCore();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogSweepFailed(ex);
        }
    }

    private void SweepCore()
    {
        var now = _time.GetUtcNow();
        foreach (var session in _registry.All)
        {
            foreach (var expired in session.RemoveExpired(now))
            {
                LogResultDiscarded(expired.Message.Id, session.Label, "its retention time ended");
            }

            if (session.SessionId is null && session.IsIdle)
            {
                _registry.Remove(session);
            }
        }
    }

    private static string Describe(JsonRpcMessage message) => message switch
    {
        JsonRpcRequest request => $"request '{request.Method}' ({request.Id})",
        JsonRpcNotification notification => $"notification '{notification.Method}'",
        JsonRpcMessageWithId withId => $"response {withId.Id}",
        _ => message.GetType().Name,
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweep.DisposeAsync().ConfigureAwait(false);
        foreach (var session in _registry.All)
        {
            foreach (var kept in session.TakeKept())
            {
                LogResultDiscarded(kept.Message.Id, session.Label, "the server is stopping");
            }
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Expiring undelivered results failed; it is tried again on the next sweep.")]
    private partial void LogSweepFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Result of request {RequestId} (session {SessionId}) was delivered by webhook.")]
    private partial void LogResultDelivered(RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result of request {RequestId} (session {SessionId}) could not be delivered to {WebhookUrl}: {Error}")]
    private partial void LogResultDeliveryFailed(RequestId requestId, string sessionId, string webhookUrl, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Result of request {RequestId} (session {SessionId}) was sent on the session's GET stream instead of the webhook.")]
    private partial void LogResultSentOnStream(RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result of request {RequestId} (session {SessionId}) is undelivered: no webhook and no open stream took it. It is kept for {RetentionSeconds:F0} s and offered again when the client comes back.")]
    private partial void LogResultKept(RequestId requestId, string sessionId, double retentionSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Undelivered result of request {RequestId} (session {SessionId}) was delivered on {Channel}.")]
    private partial void LogResultRedelivered(RequestId requestId, string sessionId, string channel);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Undelivered result of request {RequestId} (session {SessionId}) still could not be delivered by webhook: {Error}")]
    private partial void LogRedeliveryFailed(RequestId requestId, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Undelivered result of request {RequestId} (session {SessionId}) was discarded: {Why}.")]
    private partial void LogResultDiscarded(RequestId requestId, string sessionId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result of request {RequestId} (session {SessionId}) was not delivered: the server stopped.")]
    private partial void LogResultLostAtShutdown(RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {What} of session {SessionId} could not be delivered to {WebhookUrl}: {Error}")]
    private partial void LogMessageNotDelivered(string what, string sessionId, string webhookUrl, string error);
}
