using System.Threading.Channels;
using AsyncMcp.Messaging;

namespace AsyncMcp.Client;

/// <summary>
/// One connection's share of a reply queue read by a <see cref="ReplyDemultiplexer"/>: a message source that yields
/// only the replies routed to this connection. Created by <see cref="ReplyDemultiplexer.Subscribe"/>.
/// </summary>
internal sealed class ReplySubscription : IMessageSource, IAsyncDisposable
{
    private readonly ReplyDemultiplexer _owner;
    private readonly Channel<IInboundMessage> _replies = Channel.CreateUnbounded<IInboundMessage>(new UnboundedChannelOptions { SingleReader = true });
    private int _disposed;

    internal ReplySubscription(ReplyDemultiplexer owner, string description, TimeSpan leaseDuration)
    {
        _owner = owner;
        Description = description;
        LeaseDuration = leaseDuration;
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public TimeSpan LeaseDuration { get; }

    /// <summary>The connection id this subscription claimed, once claimed.</summary>
    public string? ClientId { get; internal set; }

    /// <summary>The session this subscription claimed, once known.</summary>
    public string? SessionId { get; internal set; }

    /// <summary>Claims the replies addressed to this connection id.</summary>
    /// <param name="clientId">The connection's id on the wire.</param>
    public void ClaimClient(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        _owner.ClaimClient(this, clientId);
    }

    /// <summary>Claims the replies of this session (for servers that do not echo the connection id).</summary>
    /// <param name="sessionId">The server-minted session id.</param>
    public void ClaimSession(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        _owner.ClaimSession(this, sessionId);
    }

    /// <inheritdoc />
    /// <exception cref="Exception">The shared receive loop ended with a fatal error; that error is thrown.</exception>
    public Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken) =>
        ChannelBatches.ReceiveAsync(_replies.Reader, maxMessages, cancellationToken);

    /// <summary>
    /// Leaves the shared queue; replies routed here but not yet received are handed back to the broker. When this was
    /// the last connection, waits (briefly) for the shared poll in flight to end. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when the connection has left.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _replies.Writer.TryComplete();
        while (_replies.Reader.TryRead(out var message))
        {
            _owner.Release(message);
        }

        await _owner.UnsubscribeAsync(this).ConfigureAwait(false);
    }

    internal bool TryDeliver(IInboundMessage message) => Volatile.Read(ref _disposed) == 0 && _replies.Writer.TryWrite(message);

    internal void Fail(Exception error) => _replies.Writer.TryComplete(error);
}
