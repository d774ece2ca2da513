namespace AsyncMcp.Messaging;

/// <summary>Receives messages from one broker endpoint (an SQS queue, for example).</summary>
internal interface IMessageSource
{
    /// <summary>A short description of the endpoint for logs, such as the queue URL.</summary>
    string Description { get; }

    /// <summary>How long a received message stays invisible to other receivers unless extended.</summary>
    TimeSpan LeaseDuration { get; }

    /// <summary>Waits for up to <paramref name="maxMessages"/> messages (a long poll), returning none if none arrive in time.</summary>
    /// <param name="maxMessages">The most messages to return.</param>
    /// <param name="cancellationToken">Cancels the wait; a long poll in flight is abandoned, not waited out.</param>
    /// <returns>The messages received, possibly none.</returns>
    Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken);
}
