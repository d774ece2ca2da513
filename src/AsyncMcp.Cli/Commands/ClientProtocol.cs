using System.CommandLine;
using AsyncMcp.Client;
using ModelContextProtocol.Client;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// How a client command opens its connection: the revision the SDK asks for, and whether the transport answers the
/// SDK's <c>server/discover</c> probe itself (<c>--initialize-only</c>, or a <c>--protocol-version</c> with the
/// initialize handshake).
/// </summary>
/// <remarks>
/// The SDK insists that an <c>initialize</c> answer names exactly a pinned revision older than 2026-07-28, while it
/// accepts any revision it supports after falling back from the probe. A revision with the initialize handshake is
/// therefore not pinned in the SDK: the transport answers the probe with that revision as the only one supported, the
/// SDK asks for it in <c>initialize</c>, and a server that answers an older revision we also support (a Python MCP
/// server answers 2025-06-18) is accepted. 2026-07-28 stays pinned and strict; its probe waits the whole
/// initialization timeout, so that a late reply ends as a timeout, never as "the server requires initialize".
/// </remarks>
internal sealed class ClientProtocol
{
    private const string PerRequestRevision = "2026-07-28";

    private ClientProtocol(string? sdkProtocolVersion, bool answerDiscoverLocally, string? initializeRevision)
    {
        SdkProtocolVersion = sdkProtocolVersion;
        AnswerDiscoverLocally = answerDiscoverLocally;
        InitializeRevision = initializeRevision;
    }

    /// <summary>The revision pinned in <see cref="McpClientOptions.ProtocolVersion"/>; <see langword="null"/> lets the SDK choose.</summary>
    public string? SdkProtocolVersion { get; }

    /// <summary>Whether the transport answers <c>server/discover</c> itself (the server is initialize-only).</summary>
    public bool AnswerDiscoverLocally { get; }

    /// <summary>The revision asked for in <c>initialize</c> when the transport answers the probe; <see langword="null"/> for the SDK's.</summary>
    public string? InitializeRevision { get; }

    /// <summary>Reads <c>--initialize-only</c> and, for commands that have it, <c>--protocol-version</c>.</summary>
    /// <exception cref="CliUsageException">An unknown revision, or 2026-07-28 with <c>--initialize-only</c>.</exception>
    public static ClientProtocol Read(CliSettings settings, string transport, Option<string?>? protocolVersion = null)
    {
        var initializeOnly = settings.Get(TransportSettings.InitializeOnly);
        var requested = protocolVersion is null ? null : settings.Get(protocolVersion);
        if (string.IsNullOrWhiteSpace(requested))
        {
            requested = null;
        }

        if (requested is not null && requested != PerRequestRevision && !AsyncMcpClientTransportOptions.InitializeRevisions.Contains(requested))
        {
            throw new CliUsageException($"--protocol-version must be one of {string.Join(", ", AsyncMcpClientTransportOptions.InitializeRevisions)}, {PerRequestRevision} (was '{requested}'{settings.Origin(protocolVersion!)}).");
        }

        if (transport == "hybrid")
        {
            // The SDK's own Streamable HTTP transport: the server answers (or refuses) the probe itself.
            if (initializeOnly)
            {
                throw new CliUsageException($"--initialize-only{settings.Origin(TransportSettings.InitializeOnly)} applies to --transport sqs, sns-sqs and webhook (the transport is hybrid).");
            }

            return new ClientProtocol(requested, answerDiscoverLocally: false, initializeRevision: null);
        }

        if (requested == PerRequestRevision)
        {
            return initializeOnly
                ? throw new CliUsageException($"--initialize-only cannot be combined with --protocol-version {PerRequestRevision}, which has no initialize handshake.")
                : new ClientProtocol(requested, answerDiscoverLocally: false, initializeRevision: null);
        }

        return requested is not null
            ? new ClientProtocol(null, answerDiscoverLocally: true, initializeRevision: requested)
            : new ClientProtocol(null, initializeOnly, initializeRevision: null);
    }

    /// <summary>
    /// The connection of the <c>task</c> commands: protocol revision 2026-07-28, the first that has the Tasks extension.
    /// </summary>
    /// <exception cref="CliUsageException"><c>--initialize-only</c> is set: that server cannot have tasks.</exception>
    public static ClientProtocol ForTasks(CliSettings settings)
    {
        if (settings.Get(TransportSettings.InitializeOnly))
        {
            throw new CliUsageException($"--initialize-only{settings.Origin(TransportSettings.InitializeOnly)} cannot be used with the task commands: tasks need protocol revision {PerRequestRevision}, which has no initialize handshake.");
        }

        return new ClientProtocol(PerRequestRevision, answerDiscoverLocally: false, initializeRevision: null);
    }

    /// <summary>The SDK client options for this choice.</summary>
    public McpClientOptions CreateClientOptions()
    {
        var options = new McpClientOptions { ProtocolVersion = SdkProtocolVersion };
        if (SdkProtocolVersion == PerRequestRevision)
        {
            options.DiscoverProbeTimeout = Timeout.InfiniteTimeSpan;
        }

        return options;
    }

    /// <summary>Configures an AsyncMcp client transport for this choice.</summary>
    public void Configure(AsyncMcpClientTransportOptions options)
    {
        options.InitializeOnlyServer = AnswerDiscoverLocally;
        options.InitializeProtocolVersion = InitializeRevision;
    }
}
