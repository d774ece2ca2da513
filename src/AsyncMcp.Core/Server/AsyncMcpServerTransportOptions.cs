namespace AsyncMcp.Server;

/// <summary>
/// Settings every AsyncMcp server transport shares: how many sessions and requests it takes on, how long an
/// idle session lives, and how long shutdown waits for requests in flight.
/// </summary>
public abstract class AsyncMcpServerTransportOptions
{
    /// <summary>The MCP protocol revisions the server accepts in a <c>ProtocolVersion</c> attribute.</summary>
    public static IReadOnlyList<string> DefaultSupportedProtocolVersions { get; } =
        ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];

    /// <summary>The most sessions (including per-client contexts of session-less requests) held at once. Default 10,000.</summary>
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>How long a session may go without a message before it is closed. Default 30 minutes.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The most requests in flight at once; the server stops receiving at this many. Default 100.</summary>
    public int MaxConcurrentRequests { get; set; } = 100;

    /// <summary>How long disposing the server waits for requests in flight to finish. Default 10 seconds.</summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The protocol revisions accepted in the <c>ProtocolVersion</c> attribute. Default <see cref="DefaultSupportedProtocolVersions"/>.</summary>
    public IList<string> SupportedProtocolVersions { get; set; } = [.. DefaultSupportedProtocolVersions];

    /// <summary>How failed sends (responses, notifications, requests to clients) are retried.</summary>
    public Messaging.SendRetryOptions SendRetry { get; set; } = new();

    /// <summary>
    /// How long an answer is remembered so that a redelivered or duplicated request (same session or client, same
    /// JSON-RPC id, same body) gets the same answer again instead of being run again. Zero turns it off. Default 15 minutes.
    /// </summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The most answers remembered for <see cref="DuplicateWindow"/>; the oldest are forgotten first. Default 10,000.</summary>
    public int MaxRememberedAnswers { get; set; } = 10_000;

    /// <summary>
    /// Serves each session on its transport instead of an <see cref="ModelContextProtocol.Server.McpServer"/>: a bridge
    /// forwards the session's messages to another MCP server, for example. It runs until the transport closes (the
    /// session closed or expired) or the token is cancelled; when it returns, the session is closed. Messages that
    /// belong to a session-less request (protocol revision 2026-07-28) carry the transport to answer on in
    /// <c>JsonRpcMessage.Context.RelatedTransport</c>. <see langword="null"/> (the default) runs an
    /// <see cref="ModelContextProtocol.Server.McpServer"/> per session.
    /// </summary>
    public Func<ModelContextProtocol.Protocol.ITransport, CancellationToken, Task>? RunSessionHandler { get; set; }

    /// <summary>Checks the settings, throwing an exception that names the first bad option.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public virtual void Validate()
    {
        var name = GetType().Name;
        if (MaxSessions < 1)
        {
            throw new ArgumentException($"{name}.{nameof(MaxSessions)} must be at least 1 (was {MaxSessions}).");
        }

        if (SessionIdleTimeout <= TimeSpan.Zero || SessionIdleTimeout > TimeSpan.FromDays(365))
        {
            throw new ArgumentException($"{name}.{nameof(SessionIdleTimeout)} must be positive and at most 365 days (was {SessionIdleTimeout}).");
        }

        if (MaxConcurrentRequests < 1)
        {
            throw new ArgumentException($"{name}.{nameof(MaxConcurrentRequests)} must be at least 1 (was {MaxConcurrentRequests}).");
        }

        if (ShutdownDrainTimeout < TimeSpan.Zero || ShutdownDrainTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"{name}.{nameof(ShutdownDrainTimeout)} must be from zero to one hour (was {ShutdownDrainTimeout}).");
        }

        if (DuplicateWindow < TimeSpan.Zero || DuplicateWindow > TimeSpan.FromDays(14))
        {
            throw new ArgumentException($"{name}.{nameof(DuplicateWindow)} must be from zero to 14 days, the longest SQS keeps a message (was {DuplicateWindow}).");
        }

        if (MaxRememberedAnswers < 0)
        {
            throw new ArgumentException($"{name}.{nameof(MaxRememberedAnswers)} must not be negative (was {MaxRememberedAnswers}).");
        }

        ArgumentNullException.ThrowIfNull(SendRetry, $"{name}.{nameof(SendRetry)}");
        SendRetry.Validate(name);

        if (SupportedProtocolVersions is null || SupportedProtocolVersions.Count == 0)
        {
            throw new ArgumentException($"{name}.{nameof(SupportedProtocolVersions)} must name at least one protocol revision.");
        }
    }
}
