using AsyncMcp.Messaging;

namespace AsyncMcp.Client;

/// <summary>
/// One connection's share of a reply queue read by a <see cref="ReplyDemultiplexer"/>: the demultiplexer's receive loop
/// hands the replies routed to this connection straight to its handler. Created by <see cref="ReplyDemultiplexer.Subscribe"/>.
/// </summary>
internal sealed class ReplySubscription : IReplyFeed
{
    private readonly ReplyDemultiplexer _owner;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<IInboundMessage, CancellationToken, Task>? _handler;
    private int _disposed;

    internal ReplySubscription(ReplyDemultiplexer owner, string description)
    {
        _owner = owner;
        Description = description;
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    /// <remarks>Faults with the error that ended the shared receive loop, when one did.</remarks>
    public Task Completion => _stopped.Task;

    /// <summary>The connection id this subscription claimed, once claimed.</summary>
    public string? ClientId { get; internal set; }

    /// <summary>The session this subscription claimed, once known.</summary>
    public string? SessionId { get; internal set; }

    /// <inheritdoc />
    /// <remarks>Replies reach the handler only once the connection has claimed its id (<see cref="ClaimClient"/>).</remarks>
    public void Start(Func<IInboundMessage, CancellationToken, Task> handler) => Volatile.Write(ref _handler, handler);

    /// <inheritdoc />
    public void ClaimClient(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        _owner.ClaimClient(this, clientId);
    }

    /// <inheritdoc />
    public void ClaimSession(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        _owner.ClaimSession(this, sessionId);
    }

    /// <summary>Leaves the shared queue; the last connection to leave ends the poll in flight. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _owner.UnsubscribeAsync(this).ConfigureAwait(false);
        _stopped.TrySetResult();
    }

    /// <summary>Hands a reply routed here to the connection; <see langword="false"/> when it no longer takes replies.</summary>
    internal Task<bool> TryDeliverAsync(IInboundMessage message, CancellationToken cancellationToken) =>
        Volatile.Read(ref _disposed) == 0 && Volatile.Read(ref _handler) is { } handler
            ? DeliverAsync(handler, message, cancellationToken)
            : Task.FromResult(false);

    internal void Fail(Exception error) => _stopped.TrySetException(error);

    private static async Task<bool> DeliverAsync(Func<IInboundMessage, CancellationToken, Task> handler, IInboundMessage message, CancellationToken cancellationToken)
    {
        await handler(message, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
