namespace AsyncMcp.Messaging;

/// <summary>
/// One message received from a broker and not yet acknowledged. The broker keeps it (invisible to other
/// receivers for a while) until <see cref="CompleteAsync"/> removes it.
/// </summary>
internal interface IInboundMessage
{
    /// <summary>The broker's id of the message.</summary>
    string MessageId { get; }

    /// <summary>The JSON-RPC payload, already unwrapped from any broker envelope.</summary>
    string Body { get; }

    /// <summary>The wire attributes, string-valued.</summary>
    IReadOnlyDictionary<string, string> Attributes { get; }

    /// <summary>How many times the broker has handed out this message, including this time (1 when unknown).</summary>
    int ReceiveCount { get; }

    /// <summary>When the broker accepted the message, if it says (for the age of messages on receipt).</summary>
    DateTimeOffset? SentAt => null;

    /// <summary>Removes the message from the broker: it has been handled.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the broker has been told.</returns>
    Task CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes the message visible to receivers again at once, without removing it (it was not for this receiver, or was not handled).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the broker has been told.</returns>
    Task ReleaseAsync(CancellationToken cancellationToken = default);

    /// <summary>Keeps the message invisible to other receivers for <paramref name="duration"/> from now.</summary>
    /// <param name="duration">How long.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> if the broker still held the message; <see langword="false"/> if the lease was already lost.</returns>
    Task<bool> ExtendAsync(TimeSpan duration, CancellationToken cancellationToken = default);
}
