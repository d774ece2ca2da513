using ModelContextProtocol.Client;

namespace AsyncMcp.Client;

/// <summary>Why an AsyncMcp client transport closed, when it closed on its own.</summary>
public sealed class AsyncMcpClientCompletionDetails : ClientCompletionDetails
{
    /// <summary>The address the client was receiving replies from.</summary>
    public string? ReplyAddress { get; init; }

    /// <summary>The session id, if one had been established.</summary>
    public string? SessionId { get; init; }
}
