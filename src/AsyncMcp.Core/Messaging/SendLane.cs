namespace AsyncMcp.Messaging;

/// <summary>
/// The one ordering primitive: keeps the sends of one producer (a session, a client connection) in the order it made
/// them, to the extent its destination needs. Every path that promises "progress before the result it precedes" or
/// FIFO order sends through a lane.
/// </summary>
/// <remarks>
/// <para>
/// In the default mode, notifications go one after another (each once the previous one is done, retries included),
/// and any other message (an answer, a request) waits for the notifications produced before it, so a progress
/// notice is with the broker before the result that follows it; answers to different requests do not wait for
/// each other. In strict mode (a FIFO destination) every send waits for the one before it. A send marked as last
/// of its producer (the notice that a session closed) waits for every send before it, answers included, so that
/// no answer reaches its client after the notice that the session is gone.
/// </para>
/// <para>
/// The order is taken when <see cref="SendAsync"/> is called, not when the send runs: callers call it in the order
/// the producer made its messages. A failed send does not stop the ones after it.
/// </para>
/// </remarks>
internal sealed class SendLane
{
    private readonly Lock _gate = new();
    private readonly bool _strict;
    private readonly HashSet<Task> _unordered = [];
    private Task _tail = Task.CompletedTask;

    /// <summary>Creates a lane.</summary>
    /// <param name="strict">Whether every send waits for the previous one (FIFO destinations).</param>
    public SendLane(bool strict = false) => _strict = strict;

    /// <summary>Whether every send waits for the previous one.</summary>
    public bool IsStrict => _strict;

    /// <summary>Runs <paramref name="send"/> once the sends it must follow are done, and completes as it does.</summary>
    /// <param name="kind">The kind of message: notifications are ordered among themselves, others follow them.</param>
    /// <param name="send">Performs the send.</param>
    /// <param name="afterAllEarlier">Whether to wait for every earlier send, answers included (a session's last message).</param>
    /// <returns>A task that completes, or fails, as the send does.</returns>
    public async Task SendAsync(OutboundKind kind, Func<Task> send, bool afterAllEarlier = false)
    {
        ArgumentNullException.ThrowIfNull(send);
        Task earlier;
        TaskCompletionSource? done = null;
        TaskCompletionSource? running = null;
        lock (_gate)
        {
            earlier = afterAllEarlier && _unordered.Count > 0 ? Task.WhenAll([_tail, .. _unordered]) : _tail;
            if (_strict || kind == OutboundKind.Notification || afterAllEarlier)
            {
                done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _tail = done.Task;
            }
            else
            {
                // Not waited for by what follows, except by a send that must come after everything.
                running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _unordered.Add(running.Task);
            }
        }

        try
        {
            // A failed earlier send does not stop this one.
            await earlier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await send().ConfigureAwait(false);
        }
        finally
        {
            done?.TrySetResult();
            if (running is not null)
            {
                lock (_gate)
                {
                    _unordered.Remove(running.Task);
                }

                running.TrySetResult();
            }
        }
    }
}
