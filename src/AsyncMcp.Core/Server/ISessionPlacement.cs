using System.Text.Json.Nodes;
using AsyncMcp.Messaging;

namespace AsyncMcp.Server;

/// <summary>
/// Where sessions live when several workers serve one queue: this worker mints session ids that name it, tells the
/// clients it opens sessions for where to reach it directly, and hands a message of a session another worker holds to
/// that worker. No shared store is involved: the holder is read off the session id.
/// </summary>
internal interface ISessionPlacement
{
    /// <summary>This worker's id, as session ids name it.</summary>
    string WorkerId { get; }

    /// <summary>The id of a new session held by this worker.</summary>
    string NewSessionId();

    /// <summary>Adds to the <c>_meta</c> of the answer that opens a session what a client needs to reach this worker directly.</summary>
    void Describe(JsonObject initializeResultMeta);

    /// <summary>
    /// Hands a message of a session this worker does not hold to the worker whose id the session id names, and settles
    /// the message here once the holder has it.
    /// </summary>
    /// <returns>What became of it.</returns>
    Task<Handover> HandOverAsync(string sessionId, IInboundMessage message, CancellationToken cancellationToken);
}

/// <summary>What <see cref="ISessionPlacement.HandOverAsync"/> did with a message.</summary>
internal enum Handover
{
    /// <summary>The session id names this worker, or no worker: the session is unknown here and nowhere else.</summary>
    NotElsewhere,

    /// <summary>The holder has the message; it was settled here.</summary>
    HandedOver,

    /// <summary>The worker the session id names is gone (stopped, or its lease ran out): the session is lost.</summary>
    HolderGone,
}
