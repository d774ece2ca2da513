using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// Puts an existing MCP server behind any AsyncMcp server transport without touching its code: each session gets its
/// own child process (a stdio server) or connection (a Streamable HTTP server), and messages are forwarded unchanged.
/// Give <see cref="RunSessionAsync"/> to the transport as <c>RunSessionHandler</c>. A child ends when its session
/// closes or expires, or when the transport stops.
/// </summary>
/// <example>
/// <code>
/// var bridge = new McpServerBridge(new McpServerBridgeOptions { Command = "npx", Arguments = ["@modelcontextprotocol/server-everything"] });
/// var options = new SqsServerTransportOptions { RequestQueueUrl = url, RunSessionHandler = bridge.RunSessionAsync };
/// </code>
/// </example>
public sealed partial class McpServerBridge
{
    private readonly McpServerBridgeOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly string _description;
    private readonly SessionSlots _slots = new();

    /// <summary>Creates the bridge.</summary>
    /// <param name="options">What to bridge to; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public McpServerBridge(McpServerBridgeOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<McpServerBridge>();
        _description = options.Describe();
    }

    /// <summary>How many sessions are bridged now (child processes or connections open).</summary>
    public int ActiveSessions => _slots.Taken;

    /// <summary>Serves one session: connects to the MCP server and forwards until the session or the server ends.</summary>
    /// <param name="session">The session's transport, from the AsyncMcp server transport.</param>
    /// <param name="cancellationToken">Cancelled when the session closes.</param>
    /// <returns>A task that completes when the session's bridge has stopped (its child process ended).</returns>
    public async Task RunSessionAsync(ITransport session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        using var slot = _slots.TryTake(_options.MaxSessions);
        if (slot is null)
        {
            LogLimitReached(_options.MaxSessions);
            await RefuseAsync(session, $"The bridge already serves its limit of {_options.MaxSessions} sessions; try again later.", cancellationToken).ConfigureAwait(false);
            return;
        }

        ITransport server;
        try
        {
            server = await _options.CreateTransport(_loggerFactory).ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var reason = Reason(ex);
            LogConnectFailed(_description, reason);
            await RefuseAsync(session, $"The MCP server behind this bridge could not be started: {reason}", cancellationToken).ConfigureAwait(false);
            return;
        }

        LogSessionStarted(session.SessionId, _description);
        await McpMessageBridge.RunAsync(session, server, _logger, cancellationToken).ConfigureAwait(false);

        // The slot is free before the end is logged: whoever waits for the log line may start the next session.
        slot.Dispose();
        LogSessionEnded(session.SessionId);
    }

    /// <summary>
    /// Why a connection failed, with the inner exceptions' messages: the SDK's transports say only "Failed to connect
    /// transport", and the cause ("No such file or directory", a refused connection) is inside.
    /// </summary>
    internal static string Reason(Exception exception)
    {
        var parts = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            var message = current.Message.Trim().TrimEnd('.');
            if (message.Length > 0 && !parts.Exists(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message);
            }
        }

        return string.Join(": ", parts);
    }

    /// <summary>Answers the request that opened a session that cannot be served (and any that came with it), so no client waits in vain.</summary>
    private static async Task RefuseAsync(ITransport session, string reason, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            if (!await session.MessageReader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
            {
                return;
            }

            while (session.MessageReader.TryRead(out var message))
            {
                if (message is JsonRpcRequest request)
                {
                    var route = message.Context?.RelatedTransport ?? session;
                    await route.SendMessageAsync(new JsonRpcError { Id = request.Id, Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InternalError, Message = reason } }, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // The session closed meanwhile.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A new session was refused: the bridge already serves its limit of {Limit} sessions.")]
    private partial void LogLimitReached(int limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The MCP server '{Server}' could not be started or reached: {Error}")]
    private partial void LogConnectFailed(string server, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is bridged to '{Server}'.")]
    private partial void LogSessionStarted(string? sessionId, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} ended; its MCP server connection is closed.")]
    private partial void LogSessionEnded(string? sessionId);
}
