using System.Collections.Concurrent;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// An MCP server nobody on this team wrote (<c>@modelcontextprotocol/server-everything</c>, over stdio) put behind SQS
/// on the emulator by <see cref="McpServerBridge"/>, one child process per session, and reached by our SQS client.
/// </summary>
public sealed class ServerBridgeTests(BridgeEmulator emulator)
{
    private static readonly ILoggerFactory s_loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tools_resources_prompts_and_progress_of_server_everything_reach_an_SQS_client()
    {
        var bridge = Bridge();
        await using var server = await StartServerAsync(bridge);
        await using var client = await ConnectAsync(server.RequestQueueUrl);

        var tools = await client.ListToolsAsync(cancellationToken: Timeout);
        Assert.Contains(tools, t => t.Name == "echo");
        Assert.Contains(tools, t => t.Name == "get-sum");

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over SQS" }, cancellationToken: Timeout);
        Assert.Equal("Echo: over SQS", Text(echo));

        var sum = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 }, cancellationToken: Timeout);
        Assert.Equal("The sum of 2 and 3 is 5.", Text(sum));

        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var longRun = await client.CallToolAsync(
            "trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 1, ["steps"] = 3 },
            new SyncProgress(progress.Enqueue),
            cancellationToken: Timeout);
        Assert.StartsWith("Long running operation completed.", Text(longRun), StringComparison.Ordinal);
        await Eventually(() => progress.Count >= 2);

        Assert.NotEmpty(await client.ListResourcesAsync(cancellationToken: Timeout));
        Assert.NotEmpty(await client.ListPromptsAsync(cancellationToken: Timeout));
        Assert.Equal(1, bridge.ActiveSessions);
    }

    [Fact]
    public async Task Each_session_gets_its_own_child_which_ends_with_the_session_and_the_limit_is_enforced()
    {
        var bridge = Bridge(maxSessions: 1, reclaimIdleSessions: false);
        await using var server = await StartServerAsync(bridge);

        var first = await ConnectAsync(server.RequestQueueUrl);
        Assert.Equal(1, bridge.ActiveSessions);

        // A second session while the first holds the only child: a clear error, and the first keeps working.
        var refused = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(server.RequestQueueUrl));
        Assert.Contains("limit of 1 sessions", refused.Message, StringComparison.Ordinal);
        Assert.Equal("Echo: still", Text(await first.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still" }, cancellationToken: Timeout)));

        // Closing the session ends its child; then a new session can start one.
        await first.DisposeAsync();
        await Eventually(() => bridge.ActiveSessions == 0);
        await using var second = await ConnectAsync(server.RequestQueueUrl);
        Assert.Equal("Echo: next", Text(await second.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "next" }, cancellationToken: Timeout)));
    }

    [Fact]
    public async Task At_the_limit_a_new_session_takes_the_place_of_the_one_idle_longest_and_busy_sessions_keep_theirs()
    {
        var bridge = Bridge(maxSessions: 2);
        await using var server = await StartServerAsync(bridge);
        var first = await ConnectAsync(server.RequestQueueUrl);
        await using var second = await ConnectAsync(server.RequestQueueUrl);
        Assert.Equal("Echo: used", Text(await second.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "used" }, cancellationToken: Timeout)));

        // Both idle, the first used longest ago: the third takes its place, and its child ends.
        await using var third = await ConnectAsync(server.RequestQueueUrl);
        Assert.Equal("Echo: third", Text(await third.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "third" }, cancellationToken: Timeout)));
        Assert.Equal(2, bridge.ActiveSessions);
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => first.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "late" }, cancellationToken: Timeout).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Timeout));
        Assert.IsNotType<TimeoutException>(gone);
        await first.DisposeAsync();

        // Both sessions busy (a call each in flight, seen running by its progress): a fourth session is refused.
        var running = new[] { new TaskCompletionSource(), new TaskCompletionSource() };
        var calls = new[] { second, third }.Select((client, i) => client.CallToolAsync(
            "trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 4, ["steps"] = 4 },
            new SyncProgress(_ => running[i].TrySetResult()),
            cancellationToken: Timeout).AsTask()).ToArray();
        await Task.WhenAll(running.Select(r => r.Task)).WaitAsync(TimeSpan.FromSeconds(60), Timeout);
        var refused = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(server.RequestQueueUrl));
        Assert.Contains("each with a request in flight", refused.Message, StringComparison.Ordinal);
        foreach (var call in calls)
        {
            Assert.StartsWith("Long running operation completed.", Text(await call.WaitAsync(TimeSpan.FromSeconds(60), Timeout)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_Streamable_HTTP_server_is_bridged_too()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var everything = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--import", Path.Combine(RepositoryPaths.Infra, "loopback-preload.mjs"), Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js"), "streamableHttp"],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await everything.WaitForLineAsync(l => l.Contains("listening on port", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bridge = new McpServerBridge(new McpServerBridgeOptions { Url = new Uri($"http://127.0.0.1:{port}/mcp") }, s_loggerFactory);
        await using var server = await StartServerAsync(bridge);
        await using var client = await ConnectAsync(server.RequestQueueUrl);

        var sum = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 4, ["b"] = 5 }, cancellationToken: Timeout);

        Assert.Equal("The sum of 4 and 5 is 9.", Text(sum));
    }

    [Fact]
    public async Task A_command_that_cannot_start_gets_the_client_a_clear_error()
    {
        var bridge = new McpServerBridge(new McpServerBridgeOptions { Command = Path.Combine(RepositoryPaths.Infra, "no-such-mcp-server") }, s_loggerFactory);
        await using var server = await StartServerAsync(bridge);

        var error = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(server.RequestQueueUrl));

        Assert.Contains("could not be started", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Contains("exactly one of", Assert.Throws<ArgumentException>(() => new McpServerBridge(new McpServerBridgeOptions())).Message, StringComparison.Ordinal);
        Assert.Contains("MaxSessions", Assert.Throws<ArgumentException>(() => new McpServerBridge(new McpServerBridgeOptions { Command = "x", MaxSessions = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("ShutdownTimeout", Assert.Throws<ArgumentException>(() => new McpServerBridge(new McpServerBridgeOptions { Command = "x", ShutdownTimeout = TimeSpan.FromSeconds(-1) })).Message, StringComparison.Ordinal);
    }

    private static McpServerBridge Bridge(int maxSessions = 8, bool reclaimIdleSessions = true) => new(
        new McpServerBridgeOptions
        {
            Command = RepositoryPaths.Node,
            Arguments = [Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")],
            WorkingDirectory = RepositoryPaths.Infra,
            MaxSessions = maxSessions,
            ReclaimIdleSessions = reclaimIdleSessions,
        },
        s_loggerFactory);

    private async Task<ServerHandle> StartServerAsync(McpServerBridge bridge)
    {
        var requestQueueUrl = await emulator.CreateQueueAsync("bridge-req");
        var server = new SqsServerTransport(
            emulator.Sqs,
            new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, RunSessionHandler = bridge.RunSessionAsync },
            new McpServerOptions(),
            s_loggerFactory);
        await server.StartAsync(Timeout);
        return new ServerHandle(server, requestQueueUrl);
    }

    private async Task<McpClient> ConnectAsync(string requestQueueUrl)
    {
        var responseQueueUrl = await emulator.CreateQueueAsync("bridge-resp");
        return await McpClient.CreateAsync(
            new SqsClientTransport(emulator.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }, s_loggerFactory),
            new McpClientOptions { ProtocolVersion = "2025-11-25" },
            s_loggerFactory,
            Timeout);
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private sealed record ServerHandle(SqsServerTransport Server, string RequestQueueUrl) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }
}
