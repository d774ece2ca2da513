using System.Collections.Concurrent;
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
/// <remarks>
/// At <see cref="McpServerBridgeOptions.MaxSessions"/>, a new session takes the place of the session idle longest (no
/// request of its client in flight), unless <see cref="McpServerBridgeOptions.ReclaimIdleSessions"/> is off: clients that
/// go away without closing their session (the MCP Inspector CLI through <c>asyncmcp proxy</c>, a killed process) would
/// otherwise hold every place until their sessions expire, and lock every new client out. The session that gave its
/// place is closed; its client, if still there, is told the session is unknown on its next request and starts another.
/// A session is refused only when every one has a request in flight.
/// </remarks>
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
    private readonly ConcurrentDictionary<SessionActivity, byte> _sessions = new();

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
        using var slot = _slots.TryTake(_options.MaxSessions) ?? await ReclaimIdleSessionAsync(cancellationToken).ConfigureAwait(false);
        if (slot is null)
        {
            LogLimitReached(_options.MaxSessions);
            await RefuseAsync(session, $"The bridge already serves its limit of {_options.MaxSessions} sessions, each with a request in flight; try again later.", cancellationToken).ConfigureAwait(false);
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var activity = new SessionActivity(stop);
        _sessions.TryAdd(activity, 0);
        try
        {
            ITransport server;
            try
            {
                server = await _options.CreateTransport(_loggerFactory).ConnectAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var reason = Reason(ex);
                LogConnectFailed(_description, reason);
                await RefuseAsync(session, $"The MCP server behind this bridge could not be started: {reason}", cancellationToken).ConfigureAwait(false);
                return;
            }

            LogSessionStarted(session.SessionId, _description);
            activity.Started = true;
            await McpMessageBridge.RunAsync(activity.Observe(session), server, _logger, stop.Token).ConfigureAwait(false);
        }
        finally
        {
            // The slot is free before the end is told or logged: whoever waits for either may start the next session.
            _sessions.TryRemove(activity, out _);
            slot.Dispose();
            activity.Ended.TrySetResult();
        }

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

    /// <summary>At the limit: ends the session idle longest and takes its place, or <see langword="null"/> when none is idle.</summary>
    private async Task<SessionSlots.Slot?> ReclaimIdleSessionAsync(CancellationToken cancellationToken)
    {
        // A few tries: another new session may take the place freed for this one.
        for (var attempt = 0; _options.ReclaimIdleSessions && attempt < 3; attempt++)
        {
            var victim = _sessions.Keys.Where(s => s.IsIdle).OrderBy(s => s.LastUsed).FirstOrDefault(s => s.TryClaim());
            if (victim is null)
            {
                return null;
            }

            LogReclaiming(_options.MaxSessions);
            await victim.Stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await victim.Ended.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }

            if (_slots.TryTake(_options.MaxSessions) is { } slot)
            {
                return slot;
            }
        }

        return null;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "A new session was refused: the bridge already serves its limit of {Limit} sessions, each with a request in flight.")]
    private partial void LogLimitReached(int limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "At the limit of {Limit} sessions: the session idle longest is closed to make room for a new one.")]
    private partial void LogReclaiming(int limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The MCP server '{Server}' could not be started or reached: {Error}")]
    private partial void LogConnectFailed(string server, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is bridged to '{Server}'.")]
    private partial void LogSessionStarted(string? sessionId, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} ended; its MCP server connection is closed.")]
    private partial void LogSessionEnded(string? sessionId);
}
