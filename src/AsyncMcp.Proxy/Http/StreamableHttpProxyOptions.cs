namespace AsyncMcp.Proxy.Http;

/// <summary>Settings of the Streamable HTTP front of the proxy (<see cref="StreamableHttpProxy"/>).</summary>
public sealed class StreamableHttpProxyOptions
{
    /// <summary>
    /// A token clients must send as <c>Authorization: Bearer …</c>; compared in constant time. <see langword="null"/>
    /// (the default) lets any client that reaches the listener in.
    /// </summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// The host names (without port) accepted in the <c>Host</c> header and in an <c>Origin</c> header, against DNS
    /// rebinding. Default: <c>localhost</c>, <c>127.0.0.1</c> and <c>[::1]</c>, for a proxy on loopback.
    /// </summary>
    public IList<string> AllowedHosts { get; set; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The most sessions at once; an <c>initialize</c> beyond it gets 503 with a JSON-RPC error. Default 1,000.</summary>
    public int MaxSessions { get; set; } = 1_000;

    /// <summary>
    /// How long a session may go without a request before the proxy closes it and its back connection (many clients
    /// never send <c>DELETE</c>). Default 30 minutes.
    /// </summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long a session whose client closed its GET stream may go without a request before the proxy closes it and its
    /// back connection. A client that exits without <c>DELETE</c> (the MCP Inspector CLI does) drops its GET stream as
    /// its connection closes; without this, its session (and the child process behind <c>asyncmcp serve</c>) would live
    /// for the whole <see cref="SessionIdleTimeout"/>. A session that never opened a GET stream is not affected. Default
    /// 10 seconds.
    /// </summary>
    public TimeSpan AbandonedSessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest request body accepted; larger ones get 413. Default 4 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        const string name = nameof(StreamableHttpProxyOptions);
        if (BearerToken is not null && BearerToken.Length < 16)
        {
            throw new ArgumentException($"{name}.{nameof(BearerToken)} must be at least 16 characters when set.");
        }

        if (AllowedHosts is null || AllowedHosts.Count == 0 || AllowedHosts.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"{name}.{nameof(AllowedHosts)} must name at least one host and no empty ones.");
        }

        if (MaxSessions < 1)
        {
            throw new ArgumentException($"{name}.{nameof(MaxSessions)} must be at least 1 (was {MaxSessions}).");
        }

        if (SessionIdleTimeout <= TimeSpan.Zero || SessionIdleTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"{name}.{nameof(SessionIdleTimeout)} must be positive and at most one day (was {SessionIdleTimeout}).");
        }

        if (AbandonedSessionTimeout <= TimeSpan.Zero || AbandonedSessionTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"{name}.{nameof(AbandonedSessionTimeout)} must be positive and at most one day (was {AbandonedSessionTimeout}).");
        }

        if (MaxRequestBodyBytes < 1024)
        {
            throw new ArgumentException($"{name}.{nameof(MaxRequestBodyBytes)} must be at least 1024 (was {MaxRequestBodyBytes}).");
        }
    }
}
