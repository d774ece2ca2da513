namespace AsyncMcp.Wire;

/// <summary>JSON-RPC method names that AsyncMcp adds to MCP on asynchronous transports.</summary>
internal static class WireMethods
{
    /// <summary>
    /// The session is over: a client sends it when it disposes, so the server ends the session at once instead of waiting
    /// for the idle timeout; a server sends it when it closes a session itself (it is stopping), so the client knows at
    /// once rather than at its next request. Carries the session id in the <see cref="WireAttributes.SessionId"/>
    /// attribute, and, from a server, the reason in <c>params.reason</c>.
    /// </summary>
    public const string SessionClose = "notifications/asyncmcp/session/close";

    /// <summary>
    /// The key under <c>_meta</c> with which a peer declares (value <see langword="true"/>) that it understands
    /// <see cref="SessionClose"/>: a server in its <c>initialize</c> answer, a client in its <c>initialize</c> request.
    /// Neither side sends the close to a peer that did not declare it: others (asyncmcp's Python peers) would log a
    /// warning for an unknown notification.
    /// </summary>
    public const string SessionCloseDeclaration = "asyncmcp/sessionClose";

    /// <summary>
    /// The key under <c>result._meta</c> of an <c>initialize</c> answer with which a server that is one of several workers
    /// on a queue names the queue that reaches it directly: a client may send the session's later messages there, so
    /// they need not be handed over by another worker.
    /// </summary>
    public const string SessionAddress = "asyncmcp/sessionAddress";
}
