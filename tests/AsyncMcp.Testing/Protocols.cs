namespace AsyncMcp.Testing;

/// <summary>The MCP protocol revisions every transport serves, and how a test asks the SDK client for one.</summary>
public static class Protocols
{
    /// <summary>The initialize-handshake revision.</summary>
    public const string November2025 = "2025-11-25";

    /// <summary>The per-request-metadata revision (the SDK default, negotiated with server/discover).</summary>
    public const string July2026 = "2026-07-28";

    public static TheoryData<string> Both => new() { November2025, July2026 };

    /// <summary>What to put in McpClientOptions.ProtocolVersion: null lets the SDK default (2026-07-28) negotiate.</summary>
    public static string? ClientSetting(string protocol) => protocol == July2026 ? null : protocol;
}
