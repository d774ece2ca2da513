using AsyncMcp.Messaging;

namespace AsyncMcp.Client;

/// <summary>
/// Replies pushed to a connection (webhook deliveries an HTTP endpoint received): each is handed to the connection's
/// handler by the request that brought it, so the sender hears that it was taken once the connection has it.
/// </summary>
internal sealed class PushedReplyFeed(string description) : IReplyFeed
{
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<IInboundMessage, CancellationToken, Task>? _handler;

    /// <inheritdoc />
    public string Description { get; } = description;

    /// <inheritdoc />
    public Task Completion => _stopped.Task;

    /// <inheritdoc />
    public void Start(Func<IInboundMessage, CancellationToken, Task> handler) => Volatile.Write(ref _handler, handler);

    /// <summary>Hands a pushed message to the connection.</summary>
    /// <returns><see langword="false"/> if the connection is not (or no longer) taking replies: the pusher should refuse it.</returns>
    public async Task<bool> PushAsync(IInboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_stopped.Task.IsCompleted || Volatile.Read(ref _handler) is not { } handler)
        {
            return false;
        }

        await handler(message, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _stopped.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
