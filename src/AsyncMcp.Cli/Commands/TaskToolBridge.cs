using System.Collections.Concurrent;
using System.Text.Json;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>serve --task-tool</c>: an existing MCP server served through an SDK <see cref="McpServer"/> of ours with the Tasks
/// extension on, so that the named tools become durable tasks without a change to the server. Each session (or each
/// client of protocol revision 2026-07-28) gets a child process (or connection) of its own, opened at its first request
/// and closed with it; a task tool's call instead runs on a child of its own, opened for the call and closed after it,
/// because a task outlives the session that started it. The tool's progress becomes the task's status message, and its
/// result is recorded in the task store.
/// </summary>
/// <remarks>
/// Forwarded: tools (listed as the MCP server listed them at start), prompts, resources (list, templates, read) and
/// completions, with the progress of tool calls. Not
/// forwarded (the byte-for-byte bridge without <c>--task-tool</c> forwards them): the server's own requests to the
/// client (sampling, elicitation, roots), its notifications other than progress, and resource subscriptions.
/// </remarks>
internal sealed partial class TaskToolBridge : IAsyncDisposable
{
    private readonly McpServerBridgeOptions _server;
    private readonly UpstreamServerInfo _upstream;
    private readonly IReadOnlySet<string> _taskTools;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<McpServer, SessionUpstream> _sessions = new();
    private int _disposed;

    private TaskToolBridge(McpServerBridgeOptions server, UpstreamServerInfo upstream, IReadOnlySet<string> taskTools, ILoggerFactory loggerFactory)
    {
        _server = server;
        _upstream = upstream;
        _taskTools = taskTools;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<TaskToolBridge>();
        ServerOptions = CreateServerOptions();
    }

    /// <summary>The front server's options: the MCP server's capabilities and info, and handlers that forward to it; add the Tasks extension to them.</summary>
    public McpServerOptions ServerOptions { get; }

    /// <summary>The MCP server's tools, as probed at start.</summary>
    public IReadOnlyList<Tool> Tools => _upstream.Tools;

    /// <summary>Probes the MCP server (starting it once) and checks that every task tool is one of its tools.</summary>
    /// <exception cref="IOException">The MCP server could not be started or reached.</exception>
    /// <exception cref="CliUsageException">A task tool is not one of the server's tools.</exception>
    public static async Task<TaskToolBridge> StartAsync(McpServerBridgeOptions server, IReadOnlySet<string> taskTools, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        UpstreamServerInfo upstream;
        await using (var probe = new McpServerForwarder(new McpServerForwarderOptions { CreateUpstreamTransport = () => server.CreateTransport(loggerFactory) }, loggerFactory))
        {
            try
            {
                upstream = await probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new IOException($"the MCP server '{server.Describe()}' could not be started or reached: {CliMessages.Chain(ex)}", ex);
            }
        }

        // A tool that is not there cannot be made durable: starting anyway would serve its calls as ordinary ones, or not at all.
        var known = upstream.Tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = taskTools.Where(t => !known.Contains(t)).Order(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
        {
            throw new CliUsageException(
                $"--task-tool {string.Join(", ", unknown.Select(t => $"'{t}'"))} {(unknown.Length == 1 ? "is not a tool" : "are not tools")} of the MCP server '{server.Describe()}' (its tools: {string.Join(", ", known.Order(StringComparer.Ordinal))}).");
        }

        return new TaskToolBridge(server, upstream, taskTools, loggerFactory);
    }

    /// <summary>The transports' <c>RunSessionHandler</c>: runs the session's front server, then closes its child.</summary>
    public async Task RunSessionAsync(ITransport transport, CancellationToken cancellationToken)
    {
        var server = McpServer.Create(transport, ServerOptions, _loggerFactory);
        await using (server.ConfigureAwait(false))
        {
            var session = new SessionUpstream(this);
            _sessions[server] = session;
            try
            {
                await server.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sessions.TryRemove(server, out _);
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Closes every session's child. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.WhenAll(_sessions.Values.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    private McpServerOptions CreateServerOptions()
    {
        var capabilities = _upstream.Capabilities;
        var options = new McpServerOptions
        {
            ServerInfo = _upstream.ServerInfo,
            ServerInstructions = _upstream.Instructions,
            Capabilities = new ServerCapabilities
            {
                Tools = capabilities.Tools is null ? null : new ToolsCapability(),
                Prompts = capabilities.Prompts is null ? null : new PromptsCapability(),
                Resources = capabilities.Resources is null ? null : new ResourcesCapability(),
                Completions = capabilities.Completions is null ? null : new CompletionsCapability(),
            },
        };
        var handlers = options.Handlers;
        if (capabilities.Tools is not null)
        {
            // Tools of the server's own (the probed list), not a handler: the Tasks extension runs registered tools as tasks.
            options.ToolCollection = [.. _upstream.Tools.Select(tool => new ForwardedTool(tool, CallToolAsync))];
        }

        if (capabilities.Prompts is not null)
        {
            handlers.ListPromptsHandler = ForwardAsync<ListPromptsRequestParams, ListPromptsResult>;
            handlers.GetPromptHandler = ForwardAsync<GetPromptRequestParams, GetPromptResult>;
        }

        if (capabilities.Resources is not null)
        {
            handlers.ListResourcesHandler = ForwardAsync<ListResourcesRequestParams, ListResourcesResult>;
            handlers.ListResourceTemplatesHandler = ForwardAsync<ListResourceTemplatesRequestParams, ListResourceTemplatesResult>;
            handlers.ReadResourceHandler = ForwardAsync<ReadResourceRequestParams, ReadResourceResult>;
        }

        if (capabilities.Completions is not null)
        {
            handlers.CompleteHandler = ForwardAsync<CompleteRequestParams, CompleteResult>;
        }

        return options;
    }

    /// <summary>A request other than a task tool's call: to the session's child, as it came (its <c>_meta</c> included).</summary>
    private async ValueTask<TResult> ForwardAsync<TParams, TResult>(RequestContext<TParams> request, CancellationToken cancellationToken)
        where TResult : class
    {
        if (!_sessions.TryGetValue(request.Server, out var session))
        {
            // Not a session's server (a task's view of one): a child for this request alone.
            await using var own = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            return await SendAsync<TResult>(own, request.JsonRpcRequest, cancellationToken).ConfigureAwait(false);
        }

        var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
        return await SendAsync<TResult>(client, request.JsonRpcRequest, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var parameters = request.Params ?? throw new McpProtocolException("tools/call needs params.", McpErrorCode.InvalidParams);
        if (!_taskTools.Contains(parameters.Name) && _sessions.TryGetValue(request.Server, out var session))
        {
            return await CallAsync(await session.ClientAsync(cancellationToken).ConfigureAwait(false), request, cancellationToken).ConfigureAwait(false);
        }

        // A task tool runs on a child of its own: its task outlives the session, and cancelling it ends that child.
        await using var own = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        return await CallAsync(own, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Calls the tool on <paramref name="client"/>, passing its progress on to whoever asked (a client, or a task's record).</summary>
    private async ValueTask<CallToolResult> CallAsync(McpClient client, RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var parameters = request.Params!;
        var token = parameters.ProgressToken;
        var progress = token is { } relayed ? new RelayedProgress(request.Server, relayed, _logger) : null;
        var arguments = parameters.Arguments?.ToDictionary(pair => pair.Key, pair => (object?)pair.Value, StringComparer.Ordinal);
        try
        {
            return await client.CallToolAsync(parameters.Name, arguments, progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (McpProtocolException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogCallFailed(parameters.Name, ex.Message);
            throw new McpProtocolException($"The MCP server behind this bridge could not run '{parameters.Name}': {ex.Message}", McpErrorCode.InternalError);
        }
    }

    private static async ValueTask<TResult> SendAsync<TResult>(McpClient client, JsonRpcRequest front, CancellationToken cancellationToken)
        where TResult : class
    {
        var response = await client.SendRequestAsync(new JsonRpcRequest { Method = front.Method, Params = front.Params?.DeepClone() }, cancellationToken).ConfigureAwait(false);
        return response.Result.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(TResult))) as TResult
            ?? throw new McpProtocolException($"The MCP server answered {front.Method} with an empty result.", McpErrorCode.InternalError);
    }

    /// <summary>A new connection to the MCP server (a child process), at the revision the probe negotiated.</summary>
    private async Task<McpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await McpClient.CreateAsync(
                _server.CreateTransport(_loggerFactory),
                new McpClientOptions { ProtocolVersion = _upstream.ProtocolVersion, ClientInfo = new Implementation { Name = "asyncmcp-serve", Version = "1.0.0" } },
                _loggerFactory,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = CliMessages.Chain(ex);
            LogConnectFailed(_server.Describe(), reason);
            throw new McpProtocolException($"The MCP server behind this bridge could not be started: {reason}", McpErrorCode.InternalError);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The MCP server '{Server}' could not be started: {Reason}")]
    private partial void LogConnectFailed(string server, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The call of '{Tool}' on the MCP server failed: {Reason}")]
    private partial void LogCallFailed(string tool, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A progress notice could not be passed on: {Reason}")]
    private static partial void LogProgressLost(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A session's MCP server connection did not close cleanly: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string reason);

    /// <summary>One tool of the MCP server, as the front server's own: its call goes to the MCP server.</summary>
    private sealed class ForwardedTool(Tool tool, Func<RequestContext<CallToolRequestParams>, CancellationToken, ValueTask<CallToolResult>> call) : McpServerTool
    {
        public override Tool ProtocolTool => tool;

        public override IReadOnlyList<object> Metadata => [];

        public override ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default) =>
            call(request, cancellationToken);
    }

    /// <summary>The child of one session, connected at its first request and closed with the session.</summary>
    private sealed class SessionUpstream(TaskToolBridge owner) : IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private Task<McpClient>? _client;
        private bool _disposed;

        public Task<McpClient> ClientAsync(CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);

                // A connection that failed is tried again by the next request.
                if (_client is null || _client.IsFaulted || _client.IsCanceled)
                {
                    _client = owner.ConnectAsync(CancellationToken.None);
                }

                return _client.WaitAsync(cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Task<McpClient>? client;
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                client = _client;
            }

            if (client is null)
            {
                return;
            }

            try
            {
                await (await client.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // It never connected (its request was told), or closing it failed: nothing more to do.
                LogCloseFailed(owner._logger, ex.Message);
            }
        }
    }

    /// <summary>Passes the child's progress on under the front request's token, in the order reported.</summary>
    private sealed class RelayedProgress(McpServer server, ProgressToken token, ILogger logger) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value)
        {
            _ = PassOnAsync(value);
        }

        private async Task PassOnAsync(ProgressNotificationValue value)
        {
            try
            {
                await server.NotifyProgressAsync(token, value).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogProgressLost(logger, ex.Message);
            }
        }
    }
}
