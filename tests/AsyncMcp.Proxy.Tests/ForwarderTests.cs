using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <see cref="McpServerForwarder"/> in process: a front SDK server on in-memory pipes forwarding to the test MCP server
/// (one in-process server per session, also on pipes), reached by an ordinary SDK client.
/// </summary>
public sealed class ForwarderTests
{
    private static readonly ILoggerFactory s_loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_progress_logs_and_server_requests_are_forwarded_and_the_upstream_is_mirrored()
    {
        await using var upstream = new InProcessUpstream();
        await using var forwarder = await StartAsync(upstream);
        var logged = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var front = await ConnectAsync(forwarder, new McpClientOptions
        {
            // The SDK's default revision (2026-07-28, sessionless) is refused with -32022; the client falls back to initialize at once.
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "test-model",
                    Role = Role.Assistant,
                    Content = [new TextContentBlock { Text = $"sampled {((TextContentBlock)request!.Messages[0].Content[0]).Text}" }],
                }),
                ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
                NotificationHandlers = [new("notifications/message", (n, _) => { logged.TrySetResult((string?)n.Params?["data"] ?? string.Empty); return default; })],
            },
        });
        var client = front.Client;

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.Equal("asyncmcp-test-server", client.ServerInfo?.Name);
        Assert.NotNull(client.ServerCapabilities.Tools);
        Assert.NotNull(client.ServerCapabilities.Prompts);
        Assert.NotNull(client.ServerCapabilities.Completions);
        Assert.Equal(1, forwarder.ActiveSessions);
        Assert.Equal(1, upstream.Running);

        var tools = await client.ListToolsAsync(cancellationToken: Timeout);
        Assert.Contains(tools, t => t.Name == "slow");
        Assert.Equal("Echo: hi", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Timeout)));

        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var slow = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 20 }, new SyncProgress(progress.Enqueue), cancellationToken: Timeout);
        Assert.Equal("done after 3 steps", Text(slow));
        // The SDK client handles each message on its own work item and unregisters the IProgress when the call
        // returns, so the last notice can lose that race there; which ones arrive is what the forwarder decides.
        await Eventually(() => progress.Count >= 2);
        Assert.All(progress, p => Assert.Matches("^step [123] of 3$", p.Message));
        Assert.Equal(progress.Count, progress.Select(p => p.Message).Distinct().Count());

        Assert.Equal("model test-model said: sampled ping", Text(await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "ping" }, cancellationToken: Timeout)));
        Assert.Equal("hello Ada", Text(await client.CallToolAsync("elicit", cancellationToken: Timeout)));
        Assert.Equal("logged", Text(await client.CallToolAsync("log", new Dictionary<string, object?> { ["message"] = "a log line" }, cancellationToken: Timeout)));
        Assert.Equal("a log line", await logged.Task.WaitAsync(TimeSpan.FromSeconds(30), Timeout));

        var resource = await client.ReadResourceAsync("test://static", cancellationToken: Timeout);
        Assert.Equal("static resource text", Assert.IsType<TextResourceContents>(resource.Contents[0]).Text);
        Assert.Contains(await client.ListResourceTemplatesAsync(cancellationToken: Timeout), t => t.UriTemplate == "test://items/{id}");
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Bob" }, cancellationToken: Timeout);
        Assert.Contains("Bob", Assert.IsType<TextContentBlock>(prompt.Messages[0].Content).Text, StringComparison.Ordinal);
        var completion = await client.CompleteAsync(new PromptReference { Name = "greeting" }, "name", "Al", cancellationToken: Timeout);
        Assert.Equal(["Alice", "Albert"], completion.Completion.Values);

        // The MCP server's own JSON-RPC error comes back as it gave it.
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("no-such-tool", cancellationToken: Timeout).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, unknown.ErrorCode);
        Assert.DoesNotContain("remote): Request failed", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_front_request_cancels_it_upstream()
    {
        var state = new TestServerState();
        await using var upstream = new InProcessUpstream(state);
        await using var forwarder = await StartAsync(upstream);
        await using var front = await ConnectAsync(forwarder, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);

        var call = front.Client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1000, ["delayMs"] = 50 }, cancellationToken: cancel.Token).AsTask();
        await Eventually(() => state.SlowStarted == 1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually(() => state.SlowCancelled == 1);
    }

    [Fact]
    public async Task Each_session_gets_its_own_upstream_which_closes_with_it_and_the_limit_is_enforced()
    {
        await using var upstream = new InProcessUpstream();
        await using var forwarder = await StartAsync(upstream, maxSessions: 1);

        var first = await ConnectAsync(forwarder, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        Assert.Equal(1, upstream.Running);
        var refused = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(forwarder, new McpClientOptions { ProtocolVersion = "2025-11-25" }));
        Assert.Contains("limit of 1 sessions", refused.Message, StringComparison.Ordinal);
        Assert.Equal("Echo: still", Text(await first.Client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still" }, cancellationToken: Timeout)));

        await first.DisposeAsync();
        await Eventually(() => upstream.Running == 0 && forwarder.ActiveSessions == 0);
        await using var second = await ConnectAsync(forwarder, new McpClientOptions { ProtocolVersion = "2025-11-25" });
        Assert.Equal(1, upstream.Running);
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_initialize_with_the_reason()
    {
        var starts = 0;
        await using var upstream = new InProcessUpstream();
        var forwarder = new McpServerForwarder(
            new McpServerForwarderOptions
            {
                CreateUpstreamTransport = () => Interlocked.Increment(ref starts) == 1
                    ? upstream.CreateTransport()
                    : new StdioClientTransport(new StdioClientTransportOptions { Command = Path.Combine(RepositoryPaths.Infra, "no-such-mcp-server") }),
            },
            s_loggerFactory);
        await using (forwarder)
        {
            await forwarder.ProbeAsync(Timeout);

            var error = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(forwarder, new McpClientOptions { ProtocolVersion = "2025-11-25" }));

            Assert.Contains("could not be started", error.Message, StringComparison.Ordinal);
            Assert.Equal(0, forwarder.ActiveSessions);
        }
    }

    [Fact]
    public void Options_are_checked_and_the_probe_comes_first()
    {
        Assert.Contains("CreateUpstreamTransport", Assert.Throws<ArgumentException>(() => new McpServerForwarder(new McpServerForwarderOptions())).Message, StringComparison.Ordinal);
        Assert.Contains("MaxSessions", Assert.Throws<ArgumentException>(() => new McpServerForwarder(new McpServerForwarderOptions { CreateUpstreamTransport = () => null!, MaxSessions = 0 })).Message, StringComparison.Ordinal);
        var forwarder = new McpServerForwarder(new McpServerForwarderOptions { CreateUpstreamTransport = () => null! });
        Assert.Contains("ProbeAsync", Assert.Throws<InvalidOperationException>(() => forwarder.ConfigureServer(new McpServerOptions())).Message, StringComparison.Ordinal);
    }

    private static async Task<McpServerForwarder> StartAsync(InProcessUpstream upstream, int maxSessions = 8)
    {
        var forwarder = new McpServerForwarder(new McpServerForwarderOptions { CreateUpstreamTransport = upstream.CreateTransport, MaxSessions = maxSessions }, s_loggerFactory);
        await forwarder.ProbeAsync(Timeout);
        await Eventually(() => upstream.Running == 0);
        return forwarder;
    }

    /// <summary>One front session: a front server on pipes, configured by the forwarder, and a client of it.</summary>
    private static async Task<FrontSession> ConnectAsync(McpServerForwarder forwarder, McpClientOptions clientOptions)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var options = new McpServerOptions();
        forwarder.ConfigureServer(options);
        var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), options, s_loggerFactory);
        var stop = new CancellationTokenSource();
        var run = forwarder.RunSessionAsync(server, stop.Token);
        try
        {
            var client = await McpClient.CreateAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()), clientOptions, s_loggerFactory, Timeout);
            return new FrontSession(client, server, run, stop);
        }
        catch
        {
            await new FrontSession(null, server, run, stop).DisposeAsync();
            throw;
        }
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private sealed class FrontSession(McpClient? client, McpServer server, Task run, CancellationTokenSource stop) : IAsyncDisposable
    {
        public McpClient Client => client!;

        public async ValueTask DisposeAsync()
        {
            if (client is not null)
            {
                await client.DisposeAsync();
            }

            // The session ends as a host would end it.
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            await server.DisposeAsync();
            stop.Dispose();
        }
    }

    /// <summary>The test MCP server in process: a new server on its own pipes for each connection, counted while it runs.</summary>
    private sealed class InProcessUpstream(TestServerState? state = null) : IAsyncDisposable
    {
        private readonly ConcurrentBag<Task> _runs = [];
        private int _running;

        public int Running => Volatile.Read(ref _running);

        public IClientTransport CreateTransport()
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), TestMcpServer.CreateOptions(state), s_loggerFactory);
            Interlocked.Increment(ref _running);
            _runs.Add(RunAsync(server));

            // The SDK's stream client leaves its streams open when it closes: completing the pipe ends the server, as a child process would end.
            return new ClosingClientTransport(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream(), s_loggerFactory), () => toServer.Writer.Complete());
        }

        public async ValueTask DisposeAsync() => await Task.WhenAll(_runs).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        private async Task RunAsync(McpServer server)
        {
            try
            {
                await server.RunAsync(CancellationToken.None);
            }
            finally
            {
                await server.DisposeAsync();
                Interlocked.Decrement(ref _running);
            }
        }
    }

    private sealed class ClosingClientTransport(IClientTransport inner, Action closed) : IClientTransport
    {
        public string Name => inner.Name;

        public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) => new ClosingTransport(await inner.ConnectAsync(cancellationToken), closed);
    }

    private sealed class ClosingTransport(ITransport inner, Action closed) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            closed();
        }
    }
}
