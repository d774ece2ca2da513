using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>What the MCP server behind a <see cref="McpServerForwarder"/> said about itself when it was probed at start.</summary>
public sealed class UpstreamServerInfo
{
    internal UpstreamServerInfo(Implementation serverInfo, ServerCapabilities capabilities, string? instructions, string protocolVersion, IReadOnlyList<Tool> tools)
    {
        ServerInfo = serverInfo;
        Capabilities = capabilities;
        Instructions = instructions;
        ProtocolVersion = protocolVersion;
        Tools = tools;
    }

    /// <summary>The server's name and version, which the forwarder advertises as its own.</summary>
    public Implementation ServerInfo { get; }

    /// <summary>The server's capabilities, which the forwarder advertises as its own.</summary>
    public ServerCapabilities Capabilities { get; }

    /// <summary>The server's instructions, if any.</summary>
    public string? Instructions { get; }

    /// <summary>The protocol revision the probe negotiated with the server.</summary>
    public string ProtocolVersion { get; }

    /// <summary>The server's tools as the probe listed them (as a client offering sampling, elicitation and roots); empty without the tools capability.</summary>
    public IReadOnlyList<Tool> Tools { get; }
}
