using System.Threading.Channels;

namespace AsyncMcp.Messaging;

/// <summary>
/// A message source fed by pushes rather than polls (an HTTP endpoint that receives webhook deliveries, for
/// example): <see cref="TryWrite"/> hands a message in and <see cref="ReceiveAsync"/> returns it to a receive loop.
/// </summary>
internal sealed class PushMessageSource : IMessageSource
{
    private readonly Channel<IInboundMessage> _channel;

    /// <summary>Creates a source.</summary>
    /// <param name="description">Names the endpoint for logs, such as the webhook URL.</param>
    /// <param name="capacity">The most messages held before <see cref="TryWrite"/> refuses more.</param>
    public PushMessageSource(string description, int capacity = 10_000)
    {
        ArgumentException.ThrowIfNullOrEmpty(description);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Description = description;
        _channel = Channel.CreateBounded<IInboundMessage>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    /// <remarks>Pushed messages have no lease: nobody else could receive them.</remarks>
    public TimeSpan LeaseDuration => Timeout.InfiniteTimeSpan;

    /// <summary>Hands a message to the receive loop.</summary>
    /// <param name="message">The message.</param>
    /// <returns><see langword="false"/> if the source is full or completed; the pusher should then refuse the message.</returns>
    public bool TryWrite(IInboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return _channel.Writer.TryWrite(message);
    }

    /// <summary>Ends the source: a waiting receive returns nothing more once held messages are read.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <inheritdoc />
    public Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken) =>
        ChannelBatches.ReceiveAsync(_channel.Reader, maxMessages, cancellationToken);
}

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
