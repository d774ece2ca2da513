using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>A message that could finally not be delivered (its retries are spent, or it was refused for good).</summary>
/// <param name="Address">The webhook URL.</param>
/// <param name="Message">The message.</param>
/// <param name="Exception">The last failure.</param>
internal sealed record DeliveryFailure(string Address, OutboundMessage Message, Exception Exception);

/// <summary>
/// The server's outbound side: a bounded queue per client webhook. A send returns as soon as its message is queued, so
/// neither a request's in-flight slot nor a client's POST waits on a webhook, and a slow or dead webhook delays only its
/// own client. Each message is then delivered with retries by the inner sink.
/// </summary>
/// <remarks>
/// Within one webhook, notifications go one after another, each once the previous one is done with its retries, and a
/// message that answers or asks something waits for the notifications queued before it (progress before the result it
/// precedes); answers to different requests go out concurrently. An answer the client refuses as too large (413) is
/// replaced by a short JSON-RPC error. A message that finally fails is reported through <see cref="OnFailed"/>, and
/// what is still queued for that webhook is dropped: nothing more can reach it. A full queue makes senders wait for
/// room (and <see cref="IsFull"/> lets the endpoint refuse that client's new requests).
/// </remarks>
internal sealed partial class WebhookOutbox : IMessageSink, IDisposable
{
    private readonly IMessageSink _deliver;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, ClientQueue> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _deliveries = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _stopped;

    /// <param name="deliver">Delivers one message, with its retries.</param>
    /// <param name="capacity">The most messages queued (being delivered or waiting) for one webhook.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="time">The clock for replacement errors' timestamps.</param>
    public WebhookOutbox(IMessageSink deliver, int capacity, ILogger? logger = null, TimeProvider? time = null)
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

    /// <summary>The messages queued now, over all webhooks.</summary>
    public int Count
    {
        get
        {
            lock (_queues)
            {
                return _deliveries.Count;
            }
        }
    }

    /// <summary>Whether a webhook's queue has no room: the client's webhook is not keeping up.</summary>
    /// <param name="address">The webhook URL.</param>
    /// <returns><see langword="true"/> when a send to it would wait.</returns>
    public bool IsFull(string address)
    {
        lock (_queues)
        {
            return _queues.TryGetValue(address, out var queue) && queue.Room.CurrentCount == 0;
        }
    }

    /// <inheritdoc />
    public bool PreservesOrder(string address) => false;

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

        ClientQueue? queue;
        Task admitted;
        Task earlier;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_queues)
        {
            if (!_queues.TryGetValue(address, out queue))
            {
                queue = new ClientQueue(_capacity, _stopping.Token);
                _queues[address] = queue;
            }

            // The place in the order is taken now, in the order the session produced its messages; room may come later.
            queue.Users++;
            admitted = queue.Room.WaitAsync(cancellationToken);
            earlier = queue.NotificationTail;
            if (NotificationLaneSink.IsNotification(message))
            {
                queue.NotificationTail = done.Task;
            }

            _deliveries.Add(done.Task);
        }

        // Off the sender's thread: the sender (a request's answer) is done once its message is queued.
        _ = Task.Run(() => DeliverAsync(queue, address, message, admitted, earlier, done), CancellationToken.None);
        return admitted;
    }

    /// <summary>
    /// Stops taking messages, gives those queued up to <paramref name="grace"/> (or until <paramref name="cancellationToken"/>
    /// is cancelled) to be delivered, then cancels the rest. Never throws.
    /// </summary>
    /// <param name="grace">How long queued messages may still take, all together.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns>A task that completes when nothing is being delivered any more.</returns>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        Task[] pending;
        lock (_queues)
        {
            pending = [.. _deliveries];
        }

        try
        {
            await Task.WhenAll(pending).WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogDroppedAtShutdown(pending.Count(t => !t.IsCompleted), grace.TotalSeconds);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    /// <summary>Releases the stop signal; call after <see cref="StopAsync"/>.</summary>
    public void Dispose() => _stopping.Dispose();

    private async Task DeliverAsync(ClientQueue queue, string address, OutboundMessage message, Task admitted, Task earlier, TaskCompletionSource done)
    {
        var hasRoom = false;
        try
        {
            await admitted.ConfigureAwait(false);
            hasRoom = true;
            await earlier.ConfigureAwait(false);
            queue.Token.ThrowIfCancellationRequested();
            await DeliverOrReplaceAsync(queue, address, message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!hasRoom)
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
            if (hasRoom)
            {
                queue.Room.Release();
            }

            lock (_queues)
            {
                _deliveries.Remove(done.Task);
                if (--queue.Users == 0)
                {
                    if (_queues.TryGetValue(address, out var current) && current == queue)
                    {
                        _queues.Remove(address);
                    }

                    queue.Dispose();
                }
            }

            done.TrySetResult();
        }
    }

    private async Task DeliverOrReplaceAsync(ClientQueue queue, string address, OutboundMessage message)
    {
        try
        {
            await _deliver.SendAsync(address, message, queue.Token).ConfigureAwait(false);
        }
        catch (MessageTooLargeException tooLarge) when (AnsweredId(message) is { } id)
        {
            // The client cannot take this answer: a short error instead, so that its call fails clearly rather than waits.
            message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
            message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
            LogAnswerTooLarge(id.ToString(), sessionId ?? "(none)", tooLarge.ActualBytes, address);
            var limit = tooLarge.MaxBytes > 0 ? $"the {tooLarge.MaxBytes} bytes" : "what";
            var error = JsonRpcErrors.Create(
                id,
                McpErrorCode.InternalError,
                $"The response is {tooLarge.ActualBytes} bytes, more than {limit} the client's webhook accepts (it answered 413).",
                ErrorReasons.PayloadTooLarge);
            var replacement = OutboundMessageFactory.Create(error, _time.GetUtcNow(), sessionId, clientId, orderingKey: message.OrderingKey);
            await _deliver.SendAsync(address, replacement, queue.Token).ConfigureAwait(false);
        }
    }

    /// <summary>A webhook that failed for good can take nothing more: what is queued for it is cancelled, and a later send starts afresh.</summary>
    private void Abandon(ClientQueue queue, string address)
    {
        lock (_queues)
        {
            if (_queues.TryGetValue(address, out var current) && current == queue)
            {
                _queues.Remove(address);
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

    /// <summary>The id a response or error answers; <see langword="null"/> for requests and notifications.</summary>
    public static RequestId? AnsweredId(OutboundMessage message) =>
        message.Attributes.ContainsKey(WireAttributes.Method) ? null : JsonRpcCodec.Decode(message.Body).Message is JsonRpcMessageWithId withId ? withId.Id : null;

    /// <summary>Names a message for logs: "the answer to request 2", "notification 'notifications/progress'".</summary>
    public static string Describe(OutboundMessage message)
    {
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        if (message.Attributes.TryGetValue(WireAttributes.RequestId, out var requestId))
        {
            return $"request '{method}' ({requestId})";
        }

        if (method is not null)
        {
            return $"notification '{method}'";
        }

        return AnsweredId(message) is { } id ? $"the answer to request {id}" : "message";
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

    /// <summary>One webhook's queue: room for a bounded number of messages, and the tail of its notifications.</summary>
    private sealed class ClientQueue(int capacity, CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public SemaphoreSlim Room { get; } = new(capacity, capacity);

        /// <summary>Completes when every notification queued so far is done; guarded by the outbox's lock.</summary>
        public Task NotificationTail { get; set; } = Task.CompletedTask;

        /// <summary>The sends that hold this queue; guarded by the outbox's lock.</summary>
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
