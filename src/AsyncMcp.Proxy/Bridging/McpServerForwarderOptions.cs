using ModelContextProtocol.Client;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>Which MCP server a <see cref="McpServerForwarder"/> serves, and how many sessions it serves at once.</summary>
public sealed class McpServerForwarderOptions
{
    /// <summary>
    /// Makes a new, unconnected transport to the MCP server for one session (and one for the probe at start), such as
    /// <see cref="McpServerBridgeOptions.CreateTransport"/>: a child process per session, or a connection. Required.
    /// </summary>
    public Func<IClientTransport>? CreateUpstreamTransport { get; set; }

    /// <summary>The most sessions (so, upstream connections) at once; <c>initialize</c> beyond it gets a JSON-RPC error. Default 32.</summary>
    public int MaxSessions { get; set; } = 32;

    /// <summary>
    /// Keys of a request's <c>params._meta</c> that belong to the front transport and are not sent on to the MCP server
    /// (such as the hybrid transport's webhook URL). Empty by default: everything is forwarded.
    /// </summary>
    public ISet<string> MetaKeysNotForwarded { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        const string name = nameof(McpServerForwarderOptions);
        if (CreateUpstreamTransport is null)
        {
            throw new ArgumentException($"{name}.{nameof(CreateUpstreamTransport)} is required: it makes the connection to the MCP server for each session.");
        }

        if (MaxSessions < 1 || MaxSessions > 10_000)
        {
            throw new ArgumentException($"{name}.{nameof(MaxSessions)} must be from 1 to 10000 (was {MaxSessions}).");
        }

        ArgumentNullException.ThrowIfNull(MetaKeysNotForwarded, $"{name}.{nameof(MetaKeysNotForwarded)}");
    }
}
