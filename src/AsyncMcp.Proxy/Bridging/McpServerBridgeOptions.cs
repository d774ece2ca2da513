using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>Which MCP server a <see cref="McpServerBridge"/> puts behind an async transport, and how many sessions it serves at once.</summary>
public sealed class McpServerBridgeOptions
{
    /// <summary>The command of a stdio MCP server; one process is started per session. Set this or <see cref="Url"/>.</summary>
    public string? Command { get; set; }

    /// <summary>The arguments of <see cref="Command"/>.</summary>
    public IList<string> Arguments { get; set; } = [];

    /// <summary>The working directory of <see cref="Command"/>; the current directory by default.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>Environment variables set for <see cref="Command"/> (a <see langword="null"/> value removes one).</summary>
    public IDictionary<string, string?> Environment { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>
    /// How long a child process is given to exit once its session ends (its standard input is closed) before it is
    /// killed. Default 1 second: short, so that every child is gone within the moments a stopping command has.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The Streamable HTTP endpoint of a running MCP server; one connection per session. Set this or <see cref="Command"/>.</summary>
    public Uri? Url { get; set; }

    /// <summary>The most sessions (so, child processes or connections) at once; a session beyond it gets a JSON-RPC error. Default 32.</summary>
    public int MaxSessions { get; set; } = 32;

    /// <summary>
    /// Whether a new session at <see cref="MaxSessions"/> takes the place of the session idle longest (no request in
    /// flight), which is then closed, instead of being refused. Default <see langword="true"/>: clients that leave
    /// without closing their session must not lock new ones out until those sessions expire.
    /// </summary>
    public bool ReclaimIdleSessions { get; set; } = true;

    /// <summary>
    /// A new connection to the MCP server these options name: a child process started by <see cref="Command"/> (it
    /// starts on connect, and ends when the connection is disposed), or a Streamable HTTP connection to <see cref="Url"/>.
    /// </summary>
    /// <param name="loggerFactory">The logger factory of the transport.</param>
    /// <returns>The client transport, not yet connected.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public IClientTransport CreateTransport(ILoggerFactory? loggerFactory = null)
    {
        Validate();
        if (Url is { } url)
        {
            return new HttpClientTransport(new HttpClientTransportOptions { Endpoint = url, TransportMode = HttpTransportMode.StreamableHttp, Name = "asyncmcp-bridge" }, loggerFactory);
        }

        return new StdioClientTransport(
            new StdioClientTransportOptions
            {
                Command = Command!,
                Arguments = [.. Arguments],
                WorkingDirectory = WorkingDirectory,
                EnvironmentVariables = new Dictionary<string, string?>(Environment),
                ShutdownTimeout = ShutdownTimeout,
                Name = "asyncmcp-bridge",
            },
            loggerFactory);
    }

    /// <summary>How the MCP server is named in logs and messages: the URL, or the command line.</summary>
    public string Describe() => Url?.ToString() ?? string.Join(' ', [Command ?? string.Empty, .. Arguments]);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        const string name = nameof(McpServerBridgeOptions);
        if (string.IsNullOrWhiteSpace(Command) == (Url is null))
        {
            throw new ArgumentException($"Set exactly one of {name}.{nameof(Command)} (a stdio MCP server) and {name}.{nameof(Url)} (a Streamable HTTP MCP server).");
        }

        if (Url is not null && (!Url.IsAbsoluteUri || (Url.Scheme != Uri.UriSchemeHttp && Url.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"{name}.{nameof(Url)} must be an absolute http(s) URL (was '{Url}').");
        }

        if (MaxSessions < 1 || MaxSessions > 10_000)
        {
            throw new ArgumentException($"{name}.{nameof(MaxSessions)} must be from 1 to 10000 (was {MaxSessions}).");
        }

        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"{name}.{nameof(ShutdownTimeout)} must be from zero to one minute (was {ShutdownTimeout}).");
        }

        ArgumentNullException.ThrowIfNull(Arguments, $"{name}.{nameof(Arguments)}");
        ArgumentNullException.ThrowIfNull(Environment, $"{name}.{nameof(Environment)}");
    }
}
