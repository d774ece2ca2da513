namespace AsyncMcp.Wire;

/// <summary>JSON-RPC method names that AsyncMcp adds to MCP on asynchronous transports.</summary>
internal static class WireMethods
{
    /// <summary>
    /// A notification a client sends when it disposes, so the server ends the session at once instead of
    /// waiting for the idle timeout. Carries the session id in the <see cref="WireAttributes.SessionId"/> attribute.
    /// </summary>
    public const string SessionClose = "notifications/asyncmcp/session/close";
}
