using AsyncMcp.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;

namespace AsyncMcp.Testing.Conformance;

/// <summary>The server settings a conformance test may change; <see langword="null"/> keeps the transport's default.</summary>
public sealed record ServerSettings
{
    /// <summary>The most requests in flight at once.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>How long a session may stay idle.</summary>
    public TimeSpan? SessionIdleTimeout { get; init; }

    /// <summary>How long stopping waits for requests in flight.</summary>
    public TimeSpan? ShutdownDrainTimeout { get; init; }

    /// <summary>Applies the settings to the options every AsyncMcp server transport shares.</summary>
    /// <param name="options">The options to change.</param>
    public void ApplyTo(AsyncMcpServerTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MaxConcurrentRequests = MaxConcurrentRequests ?? options.MaxConcurrentRequests;
        options.SessionIdleTimeout = SessionIdleTimeout ?? options.SessionIdleTimeout;
        options.ShutdownDrainTimeout = ShutdownDrainTimeout ?? options.ShutdownDrainTimeout;
    }
}

/// <summary>
/// A running MCP server (<see cref="TestMcpServer"/>) behind one transport, as the conformance suite sees it: real
/// clients connect to it, raw peers send it exact bytes, its counters and log can be read, and it can be stopped.
/// Disposing it disposes the clients and peers it handed out, then stops it.
/// </summary>
public abstract class ServerUnderTest(TestServerState state, CollectingLoggerProvider logs) : ServerHarness(state, logs)
{
    /// <summary>The logger factory of clients: quiet, so the server's log is what tests read.</summary>
    public static ILoggerFactory ClientLoggerFactory => NullLoggerFactory.Instance;

    /// <summary>The sessions the server holds (including per-client contexts of session-less requests), where it counts them.</summary>
    public virtual int? SessionCount => null;

    /// <summary>
    /// A well-formed session id this server never issued and that no other server holds either (a server that names its
    /// worker in session ids would otherwise take an arbitrary id for another worker's).
    /// </summary>
    public virtual string UnknownSessionId => "00000000000000000000000000000000";

    /// <summary>The requests taken and not yet answered, where the server counts them.</summary>
    public virtual int? InFlightRequests => null;

    /// <summary>Whether the server still holds the session with this id.</summary>
    public abstract bool HasSession(string sessionId);

    /// <summary>
    /// How many request messages wait on the broker for the server to receive them (visible, not in flight), for a
    /// transport with a broker in front of the server; <see langword="null"/> for one without.
    /// </summary>
    public virtual Task<int?> RequestsWaitingAsync() => Task.FromResult<int?>(null);

    /// <summary>
    /// How many request messages the broker still holds, ready to receive or in flight (taken, not yet settled), for a
    /// transport with a broker in front of the server; <see langword="null"/> for one without.
    /// </summary>
    public virtual Task<int?> RequestsUnsettledAsync() => Task.FromResult<int?>(null);

    /// <summary>
    /// Starts another server on the same broker endpoint (request queue, topic), as a restarted or second worker would,
    /// for a transport whose broker delivers again what a stopped server left unanswered.
    /// </summary>
    public virtual Task<ServerUnderTest> StartSuccessorAsync() =>
        throw new NotSupportedException("This transport has no broker that delivers a request again.");

    /// <summary>Connects a real <see cref="McpClient"/> on a protocol revision; it is disposed with the server unless the test disposes it first.</summary>
    /// <param name="protocol">The revision, <see cref="Protocols.November2025"/> or <see cref="Protocols.July2026"/>.</param>
    /// <param name="options">The client's options (handlers); the revision is set here.</param>
    /// <param name="wrap">Wraps the transport, to observe it.</param>
    /// <param name="shareReplyAddress">Whether to use the one reply address this server's clients share, where the transport can share one.</param>
    public async Task<McpClient> ConnectAsync(string protocol, McpClientOptions? options = null, Func<IClientTransport, IClientTransport>? wrap = null, bool shareReplyAddress = false)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion = Protocols.ClientSetting(protocol);
        var transport = await CreateClientTransportAsync(shareReplyAddress);
        return Own(await McpClient.CreateAsync(wrap?.Invoke(transport) ?? transport, options, ClientLoggerFactory, TestContext.Current.CancellationToken));
    }

    /// <summary>Creates a peer that speaks the transport at the wire level, with a reply address of its own.</summary>
    public async Task<RawPeer> CreateRawPeerAsync() => Own(await CreateRawPeerCoreAsync());

    /// <summary>Creates a client transport to this server.</summary>
    /// <param name="shareReplyAddress">Whether to use the reply address this server's clients share.</param>
    protected abstract Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress);

    /// <summary>Creates a raw peer.</summary>
    protected abstract Task<RawPeer> CreateRawPeerCoreAsync();
}

/// <summary>
/// Starts servers of one transport for the conformance suite: the class fixture of a transport's conformance class,
/// which holds one server for the tests that need no settings of their own.
/// </summary>
public abstract class TransportHarness : IAsyncLifetime
{
    private readonly SemaphoreSlim _sharedGate = new(1, 1);
    private ServerUnderTest? _shared;

    /// <summary>What the transport is like, where the suite's expectations differ.</summary>
    public abstract TransportTraits Traits { get; }

    /// <summary>Starts a server with these settings; the test disposes it.</summary>
    /// <param name="settings">The settings.</param>
    public abstract Task<ServerUnderTest> StartServerAsync(ServerSettings settings);

    /// <summary>The server the class's tests share: started with default settings on first use, stopped with the fixture.</summary>
    public async Task<ServerUnderTest> SharedServerAsync()
    {
        await _sharedGate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return _shared ??= await StartServerAsync(new ServerSettings());
        }
        finally
        {
            _sharedGate.Release();
        }
    }

    /// <inheritdoc />
    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
        }

        _sharedGate.Dispose();
    }
}
