namespace AsyncMcp.Server;

/// <summary>What a <see cref="SessionKey"/> names.</summary>
internal enum SessionKeyKind
{
    /// <summary>A session opened by <c>initialize</c>, by its server-minted id.</summary>
    Session,

    /// <summary>The per-client context of session-less (2026-07-28) requests, by the client's id.</summary>
    Client,

    /// <summary>The per-client context of session-less requests from a client that sends no id, by its reply address.</summary>
    ReplyAddress,

    /// <summary>The <c>initialize</c> requests of one client (its id, or its reply address), so that a copy finds the session it opened.</summary>
    Initialize,
}

/// <summary>The typed key of a session, a session-less context, or a client's initialize requests.</summary>
/// <param name="Kind">What the key names.</param>
/// <param name="Value">The id or address.</param>
internal readonly record struct SessionKey(SessionKeyKind Kind, string Value)
{
    public static SessionKey ForSession(string sessionId) => new(SessionKeyKind.Session, sessionId);

    /// <summary>The context of a client's session-less requests: by its id when it sends one, else by its reply address.</summary>
    public static SessionKey ForSessionless(string? clientId, string replyAddress) =>
        string.IsNullOrEmpty(clientId) ? new(SessionKeyKind.ReplyAddress, replyAddress) : new(SessionKeyKind.Client, clientId);

    /// <summary>A client's initialize requests: by its id when it sends one, else by its reply address.</summary>
    public static SessionKey ForInitialize(string? clientId, string replyAddress) =>
        new(SessionKeyKind.Initialize, string.IsNullOrEmpty(clientId) ? replyAddress : clientId);

    /// <summary>For logs: the session id, or what the context belongs to.</summary>
    public override string ToString() => Kind switch
    {
        SessionKeyKind.Session => Value,
        SessionKeyKind.Client => $"client {Value}",
        SessionKeyKind.ReplyAddress => $"reply address {Value}",
        _ => $"initialize of {Value}",
    };
}
