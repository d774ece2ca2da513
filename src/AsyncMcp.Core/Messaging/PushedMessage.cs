namespace AsyncMcp.Messaging;

/// <summary>
/// A message pushed to the receiver (over HTTP, say) rather than leased from a broker: there is nothing to
/// acknowledge, so completing, releasing and extending do nothing beyond an optional callback on release.
/// </summary>
/// <param name="MessageId">An id for logs (a webhook id, or a new one).</param>
/// <param name="Body">The JSON-RPC payload.</param>
/// <param name="Attributes">The wire attributes, read from the transport's headers.</param>
internal sealed record PushedMessage(string MessageId, string Body, IReadOnlyDictionary<string, string> Attributes) : IInboundMessage
{
    /// <summary>Called when the receiver hands the message back unprocessed (it cannot be redelivered, so the sender should be told).</summary>
    public Func<PushedMessage, Task>? OnReleased { get; init; }

    /// <inheritdoc />
    public int ReceiveCount => 1;

    /// <inheritdoc />
    public Task CompleteAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task ReleaseAsync(CancellationToken cancellationToken = default) => OnReleased?.Invoke(this) ?? Task.CompletedTask;

    /// <inheritdoc />
    public Task<bool> ExtendAsync(TimeSpan duration, CancellationToken cancellationToken = default) => Task.FromResult(true);
}
