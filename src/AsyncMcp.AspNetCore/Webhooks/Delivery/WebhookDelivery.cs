using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>A message that could finally not be delivered (its retries are spent, or it was refused for good).</summary>
/// <param name="Address">The webhook URL.</param>
/// <param name="Message">The message.</param>
/// <param name="Exception">The last failure.</param>
internal sealed record DeliveryFailure(string Address, OutboundMessage Message, Exception Exception);

/// <summary>
/// The server's webhook deliveries: a bounded queue per client webhook, each message delivered with its retries by the
/// inner sink. A send returns as soon as its message is queued, so neither a request's in-flight slot nor a client's POST
/// waits on a webhook, and a slow or dead webhook delays only its own client.
/// </summary>
/// <remarks>
/// Order within one webhook is kept by a <see cref="SendLane"/>: notifications go one after another, each once the
/// previous one is done with its retries, and a message that answers or asks something waits for the notifications
/// queued before it; answers to different requests go out concurrently. An answer the client refuses as too large
/// (413) is replaced by a short JSON-RPC error. A message that finally fails is reported through <see cref="OnFailed"/>,
/// and what is still queued for that webhook is dropped: nothing more can reach it. A full queue makes senders wait for
/// room, and <see cref="HasRoom"/> lets the endpoint refuse that client's new requests.
/// </remarks>
internal sealed partial class WebhookDelivery : IMessageSink, IDisposable
{
    private readonly IMessageSink _deliver;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Changed only under _gate (a queue's Users count goes with it); read without it by HasRoom, once per request.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, WebhookQueue> _queues = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly BackgroundOperations _deliveries = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _stopped;

    /// <param name="deliver">Delivers one message, with its retries.</param>
    /// <param name="capacity">The most messages queued (being delivered or waiting) for one webhook.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock for replacement errors' timestamps.</param>
    public WebhookDelivery(IMessageSink deliver, int capacity, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _deliver = deliver;
        _capacity = capacity;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Told of each message that finally could not be delivered; the server logs it and closes the session.</summary>
    public Func<DeliveryFailure, Task>? OnFailed { get; init; }

    /// <inheritdoc />
    public bool OrdersDeliveries => true;

    /// <summary>Whether a webhook's queue has room: when it has none, the client's webhook is not keeping up.</summary>
    public bool HasRoom(string address) => !_queues.TryGetValue(address, out var queue) || queue.Room.CurrentCount > 0;

    /// <inheritdoc />
    /// <returns>A task that completes once the message is queued (at once, unless the webhook's queue is full).</returns>
    /// <remarks><paramref name="cancellationToken"/> cancels the wait for room, not the delivery.</remarks>
    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentNullException.ThrowIfNull(message);
        if (Volatile.Read(ref _stopped) != 0)
        {
            throw new AsyncMcpTransportException("The webhook server has stopped delivering.", isTransient: false);
        }

        WebhookQueue queue;
        lock (_gate)
        {
            if (!_queues.TryGetValue(address, out queue!))
            {
                queue = new WebhookQueue(_capacity, _stopping.Token);
                _queues[address] = queue;
            }

            queue.Users++;
        }

        // The place in the order is taken now, in the order the session handed its messages over; room may come later.
        var admitted = queue.Room.WaitAsync(cancellationToken);
        var delivery = queue.Lane.SendAsync(message.Kind, () => DeliverAsync(queue, address, message, admitted), afterAllEarlier: message.ClosesSession);
        _deliveries.Run(() => SettleAsync(queue, address, message, admitted, delivery));
        return admitted;
    }

    /// <summary>
    /// Stops taking messages, gives those queued up to <paramref name="grace"/> (or until <paramref name="cancellationToken"/>
    /// is cancelled) to be delivered, then cancels the rest. Never throws.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        if (!await _deliveries.WaitAsync(grace, cancellationToken).ConfigureAwait(false))
        {
            LogDroppedAtShutdown(_deliveries.Count, grace.TotalSeconds);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _deliveries.WaitAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Releases the stop signal; call after <see cref="StopAsync"/>.</summary>
    public void Dispose() => _stopping.Dispose();

    private async Task DeliverAsync(WebhookQueue queue, string address, OutboundMessage message, Task admitted)
    {
        await admitted.ConfigureAwait(false);
        queue.Token.ThrowIfCancellationRequested();
        try
        {
            await _deliver.SendAsync(address, message, queue.Token).ConfigureAwait(false);
        }
        catch (MessageTooLargeException tooLarge) when (message.AnsweredId is { } id)
        {
            // The client cannot take this answer: a short error instead, so that its call fails clearly rather than waits.
            message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
            message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
            LogAnswerTooLarge(id.ToString(), sessionId ?? "(none)", tooLarge.ActualBytes, address);
            var error = JsonRpcErrors.ResponseTooLarge(id, tooLarge, "the client's webhook accepts (it answered 413)");
            var replacement = OutboundMessageFactory.Create(error, _time.GetUtcNow(), sessionId, clientId, orderingKey: message.OrderingKey);
            await _deliver.SendAsync(address, replacement, queue.Token).ConfigureAwait(false);
        }
    }

    private async Task SettleAsync(WebhookQueue queue, string address, OutboundMessage message, Task admitted, Task delivery)
    {
        try
        {
            await delivery.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!admitted.IsCompletedSuccessfully)
        {
            // The sender stopped waiting for room: the message was never queued.
        }
        catch (OperationCanceledException) when (queue.Token.IsCancellationRequested)
        {
            LogDropped(message.DeduplicationId, address);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Abandon(queue, address);
            await ReportAsync(new DeliveryFailure(address, message, ex)).ConfigureAwait(false);
        }
        finally
        {
            if (admitted.IsCompletedSuccessfully)
            {
                queue.Room.Release();
            }

            lock (_gate)
            {
                if (--queue.Users == 0)
                {
                    if (_queues.TryGetValue(address, out var current) && current == queue)
                    {
                        _queues.TryRemove(address, out _);
                    }

                    queue.Dispose();
                }
            }
        }
    }

    /// <summary>A webhook that failed for good can take nothing more: what is queued for it is cancelled, and a later send starts afresh.</summary>
    private void Abandon(WebhookQueue queue, string address)
    {
        lock (_gate)
        {
            if (_queues.TryGetValue(address, out var current) && current == queue)
            {
                _queues.TryRemove(address, out _);
            }
        }

        queue.Cancel();
    }

    private async Task ReportAsync(DeliveryFailure failure)
    {
        if (OnFailed is not { } onFailed)
        {
            LogUndelivered(Describe(failure.Message), failure.Address, failure.Exception);
            return;
        }

        try
        {
            await onFailed(failure).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReportFailed(failure.Address, ex);
        }
    }

    /// <summary>Names a message for logs: "request 'sampling/createMessage' (3)", "the answer to request 2".</summary>
    public static string Describe(OutboundMessage message)
    {
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        return message.Kind switch
        {
            OutboundKind.Request => $"request '{method}' ({message.Attributes.GetValueOrDefault(WireAttributes.RequestId)})",
            OutboundKind.Notification => $"notification '{method}'",
            _ => $"the answer to request {message.AnsweredId}",
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The answer to request {RequestId} (session {SessionId}) is {ActualBytes} bytes, more than the webhook {WebhookUrl} accepts (413); a short error is sent instead.")]
    private partial void LogAnswerTooLarge(string requestId, string sessionId, int actualBytes, string webhookUrl);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId} queued for {WebhookUrl} was dropped: an earlier delivery to it failed for good, or the server stopped.")]
    private partial void LogDropped(string messageId, string webhookUrl);

    [LoggerMessage(Level = LogLevel.Error, Message = "A {What} could not be delivered to {WebhookUrl} after its retries.")]
    private partial void LogUndelivered(string what, string webhookUrl, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a failed delivery to {WebhookUrl} failed.")]
    private partial void LogReportFailed(string webhookUrl, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} webhook deliveries were still under way after {Seconds:F1} s; they are cancelled.")]
    private partial void LogDroppedAtShutdown(int count, double seconds);

    /// <summary>One webhook's queue: room for a bounded number of messages, and the lane that keeps their order.</summary>
    private sealed class WebhookQueue(int capacity, CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public SemaphoreSlim Room { get; } = new(capacity, capacity);

        public SendLane Lane { get; } = new();

        /// <summary>The sends that hold this queue; guarded by the delivery's lock.</summary>
        public int Users { get; set; }

        public CancellationToken Token => _cancel.Token;

        public void Cancel()
        {
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _cancel.Dispose();
            Room.Dispose();
        }
    }
}
