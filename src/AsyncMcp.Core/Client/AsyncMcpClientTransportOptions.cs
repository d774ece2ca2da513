using AsyncMcp.Wire;

namespace AsyncMcp.Client;

/// <summary>Settings every AsyncMcp client transport shares.</summary>
public abstract class AsyncMcpClientTransportOptions
{
    /// <summary>The protocol revisions that open a session with the <c>initialize</c> handshake, oldest first.</summary>
    public static IReadOnlyList<string> InitializeRevisions { get; } = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

    /// <summary>
    /// This client's id. Every connection sends it with a random suffix (<c>id.suffix</c>) in the <c>ClientId</c>
    /// attribute, so that a reconnect or a second connection never mixes replies or duplicates with the first.
    /// Default: a new random id.
    /// </summary>
    public string ClientId { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Set when the server only knows the <c>initialize</c> handshake (as Python asyncmcp servers do): the
    /// transport then answers the SDK's <c>server/discover</c> probe itself, on the server's behalf, listing
    /// <see cref="InitializeProtocolVersion"/> as the only revision supported, so the client falls back to
    /// <c>initialize</c> with that revision at once instead of waiting out the probe timeout. Default <see langword="false"/>: the
    /// probe goes to the server, and a server that does not answer it costs <c>McpClientOptions.DiscoverProbeTimeout</c>.
    /// </summary>
    public bool InitializeOnlyServer { get; set; }

    /// <summary>
    /// With <see cref="InitializeOnlyServer"/>: the revision the client asks for in <c>initialize</c>, one of
    /// 2024-11-05, 2025-03-26, 2025-06-18 and 2025-11-25. Leave <c>McpClientOptions.ProtocolVersion</c> unset with it:
    /// the client then accepts a server that answers with an older revision it also supports, as Python MCP servers
    /// answer 2025-06-18. Default <see langword="null"/>: 2025-11-25.
    /// </summary>
    public string? InitializeProtocolVersion { get; set; }

    /// <summary>
    /// Whether disposing the client tells the server to close its session. The close is sent only to a server that
    /// declared in its <c>initialize</c> answer that it understands it (AsyncMcp servers do; asyncmcp's Python servers
    /// do not, and would log a warning for it). Default <see langword="true"/>.
    /// </summary>
    public bool CloseSessionOnDispose { get; set; } = true;

    /// <summary>How long disposing waits for the close message to be sent. Default 5 seconds.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Extra string attributes sent on every message, for routing or tracing. Names may not be ones AsyncMcp sets.</summary>
    public IDictionary<string, string> MessageAttributes { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>How failed sends to the server are retried before the call fails with the transport's error.</summary>
    public Messaging.SendRetryOptions SendRetry { get; set; } = new();

    /// <summary>Checks the settings, throwing an exception that names the first bad option.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public virtual void Validate()
    {
        var name = GetType().Name;
        if (string.IsNullOrWhiteSpace(ClientId))
        {
            throw new ArgumentException($"{name}.{nameof(ClientId)} must not be empty.");
        }

        if (CloseTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException($"{name}.{nameof(CloseTimeout)} must not be negative (was {CloseTimeout}).");
        }

        if (InitializeProtocolVersion is not null && !InitializeRevisions.Contains(InitializeProtocolVersion))
        {
            throw new ArgumentException($"{name}.{nameof(InitializeProtocolVersion)} must be one of {string.Join(", ", InitializeRevisions)}, the revisions with the initialize handshake (was '{InitializeProtocolVersion}').");
        }

        ArgumentNullException.ThrowIfNull(SendRetry, $"{name}.{nameof(SendRetry)}");
        SendRetry.Validate(name);

        foreach (var attribute in MessageAttributes ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrWhiteSpace(attribute.Key))
            {
                throw new ArgumentException($"{name}.{nameof(MessageAttributes)} has an attribute with an empty name.");
            }

            if (WireAttributes.Reserved.Contains(attribute.Key))
            {
                throw new ArgumentException($"{name}.{nameof(MessageAttributes)} may not set '{attribute.Key}': AsyncMcp sets it itself.");
            }

            if (attribute.Value is null)
            {
                throw new ArgumentException($"{name}.{nameof(MessageAttributes)}['{attribute.Key}'] has no value.");
            }
        }
    }
}
