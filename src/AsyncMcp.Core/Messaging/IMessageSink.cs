namespace AsyncMcp.Messaging;

/// <summary>Sends messages to broker addresses (SQS queue URLs, SNS topic ARNs, webhook URLs).</summary>
public interface IMessageSink
{
    /// <summary>Hands one message to the broker.</summary>
    /// <param name="address">Where to send it.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes once the broker has accepted the message.</returns>
    /// <exception cref="MessageTooLargeException">The message is larger than the destination accepts.</exception>
    /// <exception cref="AsyncMcpTransportException">The broker refused or could not be reached.</exception>
    Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default);
}
