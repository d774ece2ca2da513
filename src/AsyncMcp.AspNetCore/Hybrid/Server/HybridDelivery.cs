using System.Collections.Concurrent;
using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Sends what a webhook call produces to the client's webhook: signed, checked against the reply-address policy
/// (also after DNS). A result is retried with backoff; whose delivery finally fails goes on the session's GET stream if
/// one is open; otherwise it is kept for the session, offered again when the client comes back and once more when its
/// retention ends, and only then discarded, with an error in the log. Notifications get one attempt, and none while
/// the webhook is known to be down, so that they never hold up the result behind them.
/// </summary>
internal sealed partial class HybridDelivery : IAsyncDisposable
{
    /// <summary>The <c>messaging.system</c> on delivery spans.</summary>
    public const string MessagingSystem = "asyncmcp_hybrid";

    /// <summary>How long notifications to a webhook are skipped after a delivery to it failed (unless one succeeds first).</summary>
    internal static readonly TimeSpan NotificationPause = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(10);
    private readonly HybridServerTransportOptions _options;
    private readonly HybridSessionRegistry _registry;
    private readonly WebhookAddressGuard _guard;
    private readonly HttpClient _http;
    private readonly WebhookHttpSink _direct;
    private readonly RetryingMessageSink _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly BackgroundOperations _background = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pausedUntil = new(StringComparer.Ordinal);
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

        _http = _guard.CreateHttpClient();
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
        // Results and requests to the client, with retries. Notifications go straight to _direct (one attempt, sent one
        // after another by the call's transport).
        _sink = new RetryingMessageSink(_direct, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>())
        {
            MessagingSystem = MessagingSystem,
        };
        var period = TimeSpan.FromTicks(Math.Clamp(options.UndeliveredResultRetention.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _sweep = _time.CreateTimer(static state => ((HybridDelivery)state!).Sweep(), this, period, period);
    }

    /// <summary>Whether deliveries go out unsigned.</summary>
    public bool Unsigned { get; }

    /// <summary>Cancelled when the server stops: delivery attempts in progress end.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Checks a client's webhook URL against the reply-address policy (including what its host resolves to).</summary>
    /// <returns>Why it is refused, or <see langword="null"/> when it may be used.</returns>
    public Task<string?> CheckAddressAsync(string webhookUrl, CancellationToken cancellationToken) => _guard.CheckAsync(webhookUrl, cancellationToken);

    /// <summary>
    /// Sends a notification or a request of a webhook call to the client by webhook. A notification gets one attempt,
    /// none while the webhook is known to be down, and a failure is logged, not thrown: notifications are best effort
    /// and must not delay the call's result. A request (sampling, elicitation) is retried like a result, and a final
    /// failure is thrown, so the tool that sent it learns it at once rather than waiting for an answer that cannot come.
    /// </summary>
    /// <exception cref="AsyncMcpTransportException">A request could not be delivered.</exception>
    public async Task SendAsync(HybridSession session, string webhookUrl, JsonRpcMessage message, string orderingKey, CancellationToken cancellationToken = default)
    {
        var outbound = OutboundMessageFactory.Create(message, _time.GetUtcNow(), session.SessionId, clientId: null, orderingKey: orderingKey);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        if (message is JsonRpcRequest)
        {
            try
            {
                await _sink.SendAsync(webhookUrl, outbound, linked.Token).ConfigureAwait(false);
                Resume(webhookUrl);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Pause(webhookUrl);
                LogMessageNotDelivered(Describe(message), session.Label, webhookUrl, ex.Message);
                throw;
            }

            return;
        }

        if (IsPaused(webhookUrl))
        {
            LogNotificationSkipped(message is JsonRpcNotification n ? n.Method : message.GetType().Name, session.Label, webhookUrl);
            return;
        }

        try
        {
            await _direct.SendAsync(webhookUrl, outbound, linked.Token).ConfigureAwait(false);
            Resume(webhookUrl);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Pause(webhookUrl);
            LogMessageNotDelivered(Describe(message), session.Label, webhookUrl, ex.Message);
        }
    }

    /// <summary>Delivers a webhook call's result: by webhook, else on the open stream, else kept for the session.</summary>
    public async Task DeliverResultAsync(HybridSession session, string webhookUrl, JsonRpcMessageWithId result, CancellationToken cancellationToken = default)
    {
        var outbound = OutboundMessageFactory.Create(result, _time.GetUtcNow(), session.SessionId, clientId: null);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            await _sink.SendAsync(webhookUrl, outbound, linked.Token).ConfigureAwait(false);
            Resume(webhookUrl);
            LogResultDelivered(result.Id, session.Label);
            return;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            LogResultLostAtShutdown(result.Id, session.Label);
            return;
        }
        catch (Exception ex)
        {
            Pause(webhookUrl);
            LogResultDeliveryFailed(result.Id, session.Label, webhookUrl, ex.Message);
        }

        if (await TrySendOnStreamAsync(session, result, linked.Token).ConfigureAwait(false))
        {
            LogResultSentOnStream(result.Id, session.Label);
            return;
        }

        if (Keep(session, new KeptResult(result, outbound, webhookUrl, _time.GetUtcNow() + _options.UndeliveredResultRetention)))
        {
            LogResultKept(result.Id, session.Label, _options.UndeliveredResultRetention.TotalSeconds);
        }
    }

    /// <summary>A GET stream opened on the session: sends the results kept for it there.</summary>
    public void OnStreamOpened(HybridSession session)
    {
        if (session.KeptCount > 0)
        {
            _background.TryRun(() => RedeliverAsync(session, tryWebhook: false, _stopping.Token));
        }
    }

    /// <summary>The client sent something: its webhook may be back, so kept results are offered again.</summary>
    public void OnClientActivity(HybridSession session)
    {
        if (session.KeptCount > 0)
        {
            _background.TryRun(() => RedeliverAsync(session, tryWebhook: true, _stopping.Token));
        }
    }

    /// <summary>The session ended: the results kept for it can no longer be delivered.</summary>
    public void OnSessionEnded(HybridSession session, IEnumerable<KeptResult> kept, string why)
    {
        foreach (var result in kept)
        {
            LogResultDiscarded(result.Message.Id, session.Label, why);
        }
    }

    /// <summary>The client cancelled a call: a result kept for it is not wanted any more.</summary>
    public void OnCallCancelled(HybridSession session, string requestKey)
    {
        if (session.TakeKept(requestKey) is { } kept)
        {
            LogResultDiscarded(kept.Message.Id, session.Label, "the client cancelled the call");
        }
    }

    private async Task RedeliverAsync(HybridSession session, bool tryWebhook, CancellationToken cancellationToken)
    {
        if (!session.TryBeginRedelivery())
        {
            return;
        }

        // Taken one at a time, and whatever is not delivered is kept again, however the loop ends.
        var undelivered = new List<KeptResult>();
        try
        {
            while (!cancellationToken.IsCancellationRequested && session.TakeOldest() is { } kept)
            {
                var delivered = false;
                try
                {
                    if (tryWebhook && await TrySendOnceAsync(session, kept, cancellationToken).ConfigureAwait(false))
                    {
                        LogResultRedelivered(kept.Message.Id, session.Label, "webhook");
                        delivered = true;
                    }
                    else if (await TrySendOnStreamAsync(session, kept.Message, cancellationToken).ConfigureAwait(false))
                    {
                        LogResultRedelivered(kept.Message.Id, session.Label, "the GET stream");
                        delivered = true;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogRedeliveryFailed(kept.Message.Id, session.Label, ex.Message);
                }
                finally
                {
                    if (!delivered)
                    {
                        undelivered.Add(kept);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The server is stopping: what is kept again below is logged as discarded at disposal.
        }
        finally
        {
            foreach (var kept in undelivered)
            {
                Keep(session, kept);
            }

            session.EndRedelivery();
        }
    }

    /// <summary>One attempt by webhook, ignoring any pause: the client may be back.</summary>
    private async Task<bool> TrySendOnceAsync(HybridSession session, KeptResult kept, CancellationToken cancellationToken)
    {
        try
        {
            await _direct.SendAsync(kept.WebhookUrl, kept.Outbound, cancellationToken).ConfigureAwait(false);
            Resume(kept.WebhookUrl);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Pause(kept.WebhookUrl);
            LogRedeliveryFailed(kept.Message.Id, session.Label, ex.Message);
            return false;
        }
    }

    private static async Task<bool> TrySendOnStreamAsync(HybridSession session, JsonRpcMessageWithId result, CancellationToken cancellationToken)
    {
        if (!session.HasOpenStream)
        {
            return false;
        }

        try
        {
            await session.Server!.SendMessageAsync(result, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Keeps a result for the session; logs it as discarded when the session has ended, or when it pushes out the oldest.</summary>
    /// <returns>Whether it was kept.</returns>
    private bool Keep(HybridSession session, KeptResult kept)
    {
        if (!session.TryKeep(kept, _options.MaxUndeliveredResultsPerSession, out var evicted))
        {
            LogResultDiscarded(kept.Message.Id, session.Label, "its session has ended");
            return false;
        }

        if (evicted is not null)
        {
            LogResultDiscarded(evicted.Message.Id, session.Label, $"more than {_options.MaxUndeliveredResultsPerSession} undelivered results are kept for it (MaxUndeliveredResultsPerSession)");
        }

        return true;
    }

    private bool IsPaused(string webhookUrl) => _pausedUntil.TryGetValue(webhookUrl, out var until) && until > _time.GetUtcNow();

    private void Pause(string webhookUrl) => _pausedUntil[webhookUrl] = _time.GetUtcNow() + NotificationPause;

    private void Resume(string webhookUrl) => _pausedUntil.TryRemove(webhookUrl, out _);

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
            var expired = session.TakeExpired(now);
            if (expired.Count > 0 && !_background.TryRun(() => LastAttemptAsync(session, expired, _stopping.Token)))
            {
                foreach (var kept in expired)
                {
                    LogResultDiscarded(kept.Message.Id, session.Label, "the server is stopping");
                }
            }

            if (session.SessionId is null && session.TryRetire())
            {
                _registry.Remove(session);
            }
        }

        foreach (var (url, until) in _pausedUntil)
        {
            if (until <= now)
            {
                _pausedUntil.TryRemove(new KeyValuePair<string, DateTimeOffset>(url, until));
            }
        }
    }

    /// <summary>A result's retention ended: one last attempt (the client may be back without having sent anything), then it is discarded.</summary>
    private async Task LastAttemptAsync(HybridSession session, List<KeptResult> expired, CancellationToken cancellationToken)
    {
        foreach (var kept in expired)
        {
            if (!cancellationToken.IsCancellationRequested && await TrySendOnceAsync(session, kept, cancellationToken).ConfigureAwait(false))
            {
                LogResultRedelivered(kept.Message.Id, session.Label, "webhook, at the end of its retention");
            }
            else if (!cancellationToken.IsCancellationRequested && await TrySendOnStreamAsync(session, kept.Message, cancellationToken).ConfigureAwait(false))
            {
                LogResultRedelivered(kept.Message.Id, session.Label, "the GET stream, at the end of its retention");
            }
            else
            {
                LogResultDiscarded(kept.Message.Id, session.Label, cancellationToken.IsCancellationRequested ? "the server is stopping" : "its retention time ended");
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

    /// <summary>Stops: cancels attempts in progress, waits for background redeliveries, and logs every result still kept as discarded.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweep.DisposeAsync().ConfigureAwait(false);
        await _background.DrainAsync(s_drainTimeout).ConfigureAwait(false);
        foreach (var session in _registry.All)
        {
            var (_, kept) = session.Close();
            foreach (var result in kept)
            {
                LogResultDiscarded(result.Message.Id, session.Label, "the server is stopping");
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Undelivered result of request {RequestId} (session {SessionId}) still could not be delivered: {Error}")]
    private partial void LogRedeliveryFailed(RequestId requestId, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Undelivered result of request {RequestId} (session {SessionId}) was discarded: {Why}.")]
    private partial void LogResultDiscarded(RequestId requestId, string sessionId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Result of request {RequestId} (session {SessionId}) was not delivered: the server stopped.")]
    private partial void LogResultLostAtShutdown(RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {What} of session {SessionId} could not be delivered to {WebhookUrl}: {Error}")]
    private partial void LogMessageNotDelivered(string what, string sessionId, string webhookUrl, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Notification '{Method}' of session {SessionId} was not sent: a delivery to {WebhookUrl} failed moments ago.")]
    private partial void LogNotificationSkipped(string method, string sessionId, string webhookUrl);
}
