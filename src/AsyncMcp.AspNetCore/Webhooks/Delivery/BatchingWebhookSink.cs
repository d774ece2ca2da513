using AsyncMcp.Messaging;
using AsyncMcp.Messaging.Batching;
using AsyncMcp.Wire;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>
/// Sends the answers that wait at the same moment for one session's webhook as one POST whose body is a JSON array
/// (see <see cref="WebhookBatches"/>), to webhooks whose URL asks for it; every other message, and every message to
/// any other webhook, goes to the inner sink as it came. An answer that finds no POST to its webhook in flight goes
/// out at once, alone: nothing waits to fill a batch.
/// </summary>
/// <remarks>
/// Only answers are batched: they are not ordered among themselves (see <see cref="SendLane"/>), so sending several in
/// one POST changes no order a session relies on. A batch is sent, and retried, as one message by the inner sink; each
/// answer completes or fails as the batch does. A batch the webhook refuses as too large (413) is sent again one
/// answer per POST, so that each answer meets the limit, or fails with its own <see cref="MessageTooLargeException"/>.
/// </remarks>
internal sealed class BatchingWebhookSink : IMessageSink
{
    /// <summary>How many answers one POST carries at most, how many bytes of them, and how many POSTs to one webhook may be in flight.</summary>
    public static readonly BatchLimits Limits = new(MaxEntries: 32, MaxBytes: 256 * 1024, MaxConcurrentBatches: 4);

    private readonly IMessageSink _inner;
    private readonly BatchLanes<Entry> _lanes;

    /// <param name="inner">Sends one message (a single answer, or a batch as one message), with its retries.</param>
    /// <param name="time">The clock that ages idle lanes.</param>
    public BatchingWebhookSink(IMessageSink inner, TimeProvider? time = null)
    {
        _inner = inner;
        _lanes = new BatchLanes<Entry>(SendBatchAsync, static entry => entry.Message.Body.Length, Limits, time);
    }

    /// <inheritdoc />
    public bool PreservesOrder(string address) => _inner.PreservesOrder(address);

    /// <inheritdoc />
    public bool OrdersDeliveries => _inner.OrdersDeliveries;

    /// <summary>How many answers wait for a POST to their webhook to end (not those in flight); for tests.</summary>
    internal int WaitingCount => _lanes.TotalWaitingCount;

    /// <inheritdoc />
    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Kind != OutboundKind.Answer || !WebhookBatches.AreAcceptedBy(address))
        {
            return _inner.SendAsync(address, message, cancellationToken);
        }

        return _lanes.SubmitAsync(LaneKey(address, message), new Entry(address, message), cancellationToken);
    }

    /// <summary>
    /// One lane per webhook and session: the headers of a batch are those of its answers, so its answers must agree on
    /// them (the session, the client, the protocol revision).
    /// </summary>
    private static string LaneKey(string address, OutboundMessage message)
    {
        var attributes = message.Attributes;
        return string.Join(
            '\n',
            address,
            attributes.GetValueOrDefault(WireAttributes.SessionId),
            attributes.GetValueOrDefault(WireAttributes.ClientId),
            attributes.GetValueOrDefault(WireAttributes.ProtocolVersion));
    }

    private async Task SendBatchAsync(string key, IReadOnlyList<BatchLane<Entry>.Pending> batch)
    {
        var first = batch[0];
        if (batch.Count == 1)
        {
            await SendOneAsync(first).ConfigureAwait(false);
            return;
        }

        var combined = new OutboundMessage(WebhookBatches.Join(batch.Select(static p => p.Entry.Message.Body)), first.Entry.Message.Attributes, first.Entry.Message.OrderingKey)
        {
            Kind = OutboundKind.Answer,
        };
        try
        {
            await _inner.SendAsync(first.Entry.Address, combined, first.CancellationToken).ConfigureAwait(false);
        }
        catch (MessageTooLargeException)
        {
            // The webhook takes less than the batch: each answer on its own, each meeting the limit or failing alone.
            await Task.WhenAll(batch.Select(SendOneAsync)).ConfigureAwait(false);
            return;
        }

        foreach (var pending in batch)
        {
            pending.Succeed();
        }
    }

    private async Task SendOneAsync(BatchLane<Entry>.Pending pending)
    {
        try
        {
            await _inner.SendAsync(pending.Entry.Address, pending.Entry.Message, pending.CancellationToken).ConfigureAwait(false);
            pending.Succeed();
        }
        catch (Exception ex)
        {
            pending.Fail(ex);
        }
    }

    /// <summary>An answer and the webhook it goes to.</summary>
    private sealed record Entry(string Address, OutboundMessage Message);
}
