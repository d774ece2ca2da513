using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable MCP9005 // Logging, roots and sampling are deprecated by protocol revision 2026-07-28; the forwarder serves 2025-11-25 sessions, where they are live.

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// Serves an existing MCP server through an SDK <see cref="McpServer"/> of our own, so that anything built on the SDK's
/// server (request filters, the Streamable HTTP endpoint, the hybrid transport's webhook delivery) applies to it. Each
/// session of the front server gets its own connection to the MCP server (a child process, or a Streamable HTTP
/// connection), opened when the session's <c>initialize</c> arrives and closed when the session ends. Requests are
/// forwarded as they came (params and <c>_meta</c>, such as the progress token, unchanged), and so are their
/// cancellation, the server's notifications and its requests to the client (sampling, elicitation, roots).
/// </summary>
/// <remarks>
/// <para>
/// Unlike <see cref="McpServerBridge"/>, which forwards messages byte for byte, the forwarder answers the client itself:
/// <c>initialize</c>, <c>ping</c> and the protocol checks are the SDK's, and it advertises the capabilities, server info
/// and instructions the MCP server gave when it was probed (<see cref="ProbeAsync"/>, once, before serving).
/// </para>
/// <para>
/// Sessions are required: requests of protocol revision 2026-07-28, which have none, are refused with
/// <c>-32022</c> naming the revisions that use <c>initialize</c>, so SDK clients fall back to a session at once.
/// </para>
/// <para>
/// Give every session its own <see cref="McpServerOptions"/>, configured by <see cref="ConfigureServer"/>, and run it
/// with <see cref="RunSessionAsync"/>. With the SDK's Streamable HTTP, options of its own per session come from setting
/// <c>HttpServerTransportOptions.ConfigureSessionOptions</c>, and <c>RunSessionHandler</c> calls
/// <see cref="RunSessionAsync"/>.
/// </para>
/// </remarks>
public sealed partial class McpServerForwarder : IAsyncDisposable
{
    /// <summary>The protocol revisions that use <c>initialize</c>, newest first: those the forwarder serves.</summary>
    internal static readonly string[] SessionProtocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

    private readonly McpServerForwarderOptions _options;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<McpServerOptions, ForwardedSession> _byOptions = [];
    private readonly ConcurrentDictionary<ForwardedSession, byte> _running = new();
    private readonly SessionSlots _slots = new();
    private UpstreamServerInfo? _upstream;
    private int _disposed;

    /// <summary>Creates the forwarder.</summary>
    /// <param name="options">What to forward to; validated here.</param>
    /// <param name="loggerFactory">The logger factory, also of the upstream connections.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public McpServerForwarder(McpServerForwarderOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger<McpServerForwarder>();
    }

    /// <summary>What the MCP server said about itself when probed; <see langword="null"/> before <see cref="ProbeAsync"/>.</summary>
    public UpstreamServerInfo? Upstream => Volatile.Read(ref _upstream);

    /// <summary>How many sessions hold a connection to the MCP server now.</summary>
    public int ActiveSessions => _slots.Taken;

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Logger => _logger;

    internal McpServerForwarderOptions Options => _options;

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>
    /// Connects to the MCP server once, as a client that offers sampling, elicitation and roots (so that tools the server
    /// offers only to such clients are listed), and reads what it offers; then closes that connection. Call it before
    /// <see cref="ConfigureServer"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>What the server offers.</returns>
    /// <exception cref="IOException">The server could not be started or reached.</exception>
    /// <exception cref="McpException">The server did not complete <c>initialize</c>.</exception>
    public async Task<UpstreamServerInfo> ProbeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var client = await ConnectUpstreamAsync(
            version => new McpClientOptions
            {
                ProtocolVersion = version,
                ClientInfo = new Implementation { Name = "asyncmcp-forwarder-probe", Version = "1.0.0" },
                Handlers = new McpClientHandlers
                {
                    SamplingHandler = static (_, _, _) => throw new McpException("The forwarder's probe does not sample."),
                    ElicitationHandler = static (_, _) => throw new McpException("The forwarder's probe does not elicit."),
                    RootsHandler = static (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [] }),
                },
            },
            cancellationToken).ConfigureAwait(false);
        await using (client.ConfigureAwait(false))
        {
            IReadOnlyList<Tool> tools = client.ServerCapabilities.Tools is null
                ? []
                : [.. (await client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Select(t => t.ProtocolTool)];
            var info = new UpstreamServerInfo(
                client.ServerInfo ?? new Implementation { Name = "mcp-server", Version = "0.0.0" },
                client.ServerCapabilities,
                client.ServerInstructions,
                client.NegotiatedProtocolVersion ?? SessionProtocolVersions[0],
                tools);
            Volatile.Write(ref _upstream, info);
            LogProbed(info.ServerInfo.Name, info.ServerInfo.Version, info.ProtocolVersion, tools.Count);
            return info;
        }
    }

    /// <summary>
    /// Configures the options of one session's front server: the MCP server's capabilities, info and instructions, a
    /// handler for each request it can answer, and the message filter that opens the session's upstream connection on
    /// <c>initialize</c> (refusing it beyond <see cref="McpServerForwarderOptions.MaxSessions"/>). Calling it again on
    /// the same options does nothing.
    /// </summary>
    /// <param name="options">Options that belong to one session only.</param>
    /// <exception cref="InvalidOperationException"><see cref="ProbeAsync"/> has not run.</exception>
    public void ConfigureServer(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var upstream = Upstream ?? throw new InvalidOperationException($"Call {nameof(ProbeAsync)} before {nameof(ConfigureServer)}: the front server advertises what the MCP server offers.");
        if (_byOptions.TryGetValue(options, out _))
        {
            return;
        }

        var session = new ForwardedSession(this);
        _byOptions.Add(options, session);
        var capabilities = upstream.Capabilities;
        options.ServerInfo = upstream.ServerInfo;
        options.ServerInstructions = upstream.Instructions;
        options.Capabilities = new ServerCapabilities
        {
            Tools = capabilities.Tools is { } tools ? new ToolsCapability { ListChanged = tools.ListChanged } : null,
            Prompts = capabilities.Prompts is { } prompts ? new PromptsCapability { ListChanged = prompts.ListChanged } : null,
            Resources = capabilities.Resources is { } resources ? new ResourcesCapability { ListChanged = resources.ListChanged, Subscribe = resources.Subscribe } : null,
            Completions = capabilities.Completions is null ? null : new CompletionsCapability(),
            Logging = capabilities.Logging is null ? null : new LoggingCapability(),
            Experimental = capabilities.Experimental,
            Extensions = capabilities.Extensions,
        };

        var handlers = options.Handlers;
        if (capabilities.Tools is not null)
        {
            handlers.ListToolsHandler = session.ForwardAsync<ListToolsRequestParams, ListToolsResult>;
            handlers.CallToolHandler = session.ForwardAsync<CallToolRequestParams, CallToolResult>;
        }

        if (capabilities.Prompts is not null)
        {
            handlers.ListPromptsHandler = session.ForwardAsync<ListPromptsRequestParams, ListPromptsResult>;
            handlers.GetPromptHandler = session.ForwardAsync<GetPromptRequestParams, GetPromptResult>;
        }

        if (capabilities.Resources is { } resourcesCapability)
        {
            handlers.ListResourcesHandler = session.ForwardAsync<ListResourcesRequestParams, ListResourcesResult>;
            handlers.ListResourceTemplatesHandler = session.ForwardAsync<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>;
            handlers.ReadResourceHandler = session.ForwardAsync<ReadResourceRequestParams, ReadResourceResult>;
            if (resourcesCapability.Subscribe == true)
            {
                handlers.SubscribeToResourcesHandler = session.ForwardAsync<SubscribeRequestParams, EmptyResult>;
                handlers.UnsubscribeFromResourcesHandler = session.ForwardAsync<UnsubscribeRequestParams, EmptyResult>;
            }
        }

        if (capabilities.Completions is not null)
        {
            handlers.CompleteHandler = session.ForwardAsync<CompleteRequestParams, CompleteResult>;
        }

        if (capabilities.Logging is not null)
        {
            handlers.SetLoggingLevelHandler = session.ForwardAsync<SetLevelRequestParams, EmptyResult>;
        }

        options.Filters.Message.IncomingFilters.Add(session.OnIncoming);
    }

    /// <summary>
    /// Runs one session's front server until the session ends, then closes its connection to the MCP server (a child
    /// process ends). Use it instead of <see cref="McpServer.RunAsync"/>, as the SDK's <c>RunSessionHandler</c>.
    /// </summary>
    /// <param name="server">The session's server, created with options configured by <see cref="ConfigureServer"/>.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>A task that completes when the session has ended and its upstream connection is closed.</returns>
    /// <exception cref="InvalidOperationException">The server's options were not configured by <see cref="ConfigureServer"/>, or another running session shares them.</exception>
    public async Task RunSessionAsync(McpServer server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!_byOptions.TryGetValue(server.ServerOptions, out var session))
        {
            throw new InvalidOperationException($"The server's options were not configured by {nameof(McpServerForwarder)}.{nameof(ConfigureServer)}.");
        }

        session.Attach(server);
        _running.TryAdd(session, 0);
        try
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(session, out _);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes every session's connection to the MCP server (child processes end). Idempotent.</summary>
    /// <returns>A task that completes when they are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.WhenAll(_running.Keys.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    /// <summary>Takes one of the <see cref="McpServerForwarderOptions.MaxSessions"/> places, if one is free; the session disposes it to give it back.</summary>
    internal SessionSlots.Slot? TryTakeSlot()
    {
        var slot = _slots.TryTake(_options.MaxSessions);
        if (slot is null)
        {
            LogLimitReached(_options.MaxSessions);
        }

        return slot;
    }

    /// <summary>
    /// Connects a client to a new upstream transport, asking for <paramref name="options"/>' protocol revision; a server
    /// that answers <c>initialize</c> with another revision is connected again (a new transport) letting the SDK
    /// negotiate.
    /// </summary>
    internal async Task<McpClient> ConnectUpstreamAsync(
        Func<string?, McpClientOptions> options,
        CancellationToken cancellationToken,
        string? protocolVersion = null,
        Action<JsonRpcNotification>? onProgress = null)
    {
        protocolVersion ??= SessionProtocolVersions[0];
        IClientTransport Transport()
        {
            var transport = _options.CreateUpstreamTransport!();
            return onProgress is null ? transport : new ProgressFirstClientTransport(transport, onProgress);
        }

        try
        {
            return await McpClient.CreateAsync(Transport(), options(protocolVersion), LoggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch (McpException ex) when (ex is not McpProtocolException && !cancellationToken.IsCancellationRequested)
        {
            // The SDK refuses a revision other than the one it asked for when one is named; without one it negotiates.
            LogVersionRetry(protocolVersion, ex.Message);
            return await McpClient.CreateAsync(Transport(), options(null), LoggerFactory, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The MCP server is {Name} {Version} (protocol {ProtocolVersion}, {ToolCount} tools).")]
    private partial void LogProbed(string name, string version, string protocolVersion, int toolCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A new session was refused: the forwarder already serves its limit of {Limit} sessions.")]
    private partial void LogLimitReached(int limit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The MCP server did not take protocol revision {ProtocolVersion} ({Error}); connecting again to negotiate.")]
    private partial void LogVersionRetry(string protocolVersion, string error);
}
