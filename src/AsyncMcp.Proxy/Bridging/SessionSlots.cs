namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// The places under a session limit: a session takes one before it opens its connection to the MCP server and gives
/// it back once that connection is closed. Counted without a lock, since a session beyond the limit is refused at once.
/// </summary>
internal sealed class SessionSlots
{
    private int _taken;

    /// <summary>How many places are taken now.</summary>
    public int Taken => Volatile.Read(ref _taken);

    /// <summary>Takes a place if fewer than <paramref name="limit"/> are taken.</summary>
    /// <param name="limit">The most places that may be taken at once (read at each call, as the options hold it).</param>
    /// <returns>The place, to be disposed when the session no longer needs it; <see langword="null"/> at the limit.</returns>
    public Slot? TryTake(int limit)
    {
        if (Interlocked.Increment(ref _taken) > limit)
        {
            Interlocked.Decrement(ref _taken);
            return null;
        }

        return new Slot(this);
    }

    /// <summary>One place taken; disposing it gives it back, once however often it is disposed.</summary>
    internal sealed class Slot(SessionSlots owner) : IDisposable
    {
        private int _released;

        /// <inheritdoc />
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref owner._taken);
            }
        }
    }
}
