namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>How the hybrid server answers a POSTed request (both are standard Streamable HTTP).</summary>
public enum HybridResponseMode
{
    /// <summary>
    /// A <c>text/event-stream</c> response that carries the request's progress and log notifications, requests to the
    /// client, and then its response.
    /// </summary>
    Sse,

    /// <summary>
    /// A single <c>application/json</c> response. Notifications and requests to the client that belong to the request go
    /// to the session's GET stream when one is open (they cannot ride a JSON body).
    /// </summary>
    Json,
}
