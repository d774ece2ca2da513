using AsyncMcp.Messaging;

namespace AsyncMcp.Client;

/// <summary>
/// Where one client connection's replies come from: its own queue, polled by its own receive loop
/// (<see cref="PolledReplyFeed"/>); its share of a queue that one receive loop reads for several connections
/// (<see cref="ReplySubscription"/>); or deliveries pushed to it over HTTP (<see cref="PushedReplyFeed"/>). Each reply
/// goes straight to the connection's handler, in the order the feed gets it.
/// </summary>
internal interface IReplyFeed : IAsyncDisposable
{
    /// <summary>Names where replies come from, for logs and spans.</summary>
    string Description { get; }

    /// <summary>Completes when the feed has stopped; faults when replies can no longer come (the queue is gone).</summary>
    Task Completion { get; }

    /// <summary>Starts handing each reply to <paramref name="handler"/>. Called once.</summary>
    /// <param name="handler">Handles one reply; it should return quickly.</param>
    void Start(Func<IInboundMessage, CancellationToken, Task> handler);

    /// <summary>On a shared feed: the replies addressed to this connection id come here from now on.</summary>
    /// <param name="clientId">The connection's id on the wire.</param>
    void ClaimClient(string clientId)
    {
    }

    /// <summary>On a shared feed: the replies of this session come here (for servers that do not echo the connection id).</summary>
    /// <param name="sessionId">The server-minted session id.</param>
    void ClaimSession(string sessionId)
    {
    }
}
