namespace AsyncMcp.Messaging;

/// <summary>Sends messages to broker addresses (SQS queue URLs, SNS topic ARNs, webhook URLs).</summary>
internal interface IMessageSink
{
    /// <summary>Hands one message to the broker.</summary>
    /// <param name="address">Where to send it.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the broker has accepted the message.</returns>
    /// <exception cref="MessageTooLargeException">The message is larger than the destination accepts.</exception>
    /// <exception cref="AsyncMcpTransportException">The broker refused or could not be reached.</exception>
    Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the destination keeps order within an ordering key (an SQS FIFO queue). Senders then hand it a
    /// session's messages one after another, in the order the session produced them.
    /// </summary>
    /// <param name="address">The destination.</param>
    /// <returns><see langword="true"/> for an ordered destination.</returns>
    bool PreservesOrder(string address) => false;

    /// <summary>
    /// Whether the sink takes a message at once and delivers it later, keeping each destination's messages in the order
    /// they were handed over (notifications one after another, any other message after the notifications before it),
    /// as a webhook delivery queue does. Senders then hand messages over in the order they were made and need not wait
    /// for one before handing over the next.
    /// </summary>
    bool OrdersDeliveries => false;
}
