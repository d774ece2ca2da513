using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <c>asyncmcp serve --transport hybrid</c> in front of <c>@modelcontextprotocol/server-everything</c> (stdio, one child
/// per session), reached by <c>asyncmcp call</c>, our hybrid client and the MCP Inspector CLI. Every process is started
/// here and ended by its process id; the children of the command are found through <c>/proc</c>.
/// </summary>
public sealed class CliHybridServeTests(BridgeEmulator emulator)
{
    private const string LongTool = "trigger-long-running-operation";
    private readonly CliProcess _cli = new(emulator);
    private readonly string _secret = NewSecret();

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Asyncmcp_call_gets_a_fast_tool_on_the_stream_the_webhook_tools_result_by_webhook_and_a_wrong_secret_is_refused()
    {
        var (serve, url) = await StartAsync("--webhook-tool", LongTool);
        await using (serve)
        {
            var (sumExit, sumOutput) = await _cli.RunAsync(["call", "--transport", "hybrid", "--server-url", url, "--secret", _secret, "--tool", "get-sum", "--arg", "a=2", "--arg", "b=3", "--json"]);
            Assert.True(sumExit == 0, sumOutput);
            Assert.Equal("The sum of 2 and 3 is 5.", (string?)CliProcess.LastJsonLine(sumOutput)["content"]![0]!["text"]);

            // Without --json: the progress bar, then the result's text; --verbose shows that the call was acknowledged and its result came by webhook.
            var (longExit, longOutput) = await _cli.RunAsync(["call", "--transport", "hybrid", "--server-url", url, "--secret", _secret, "--tool", LongTool, "--arg", "duration=1", "--arg", "steps=3", "--verbose"]);
            Assert.True(longExit == 0, longOutput);
            Assert.Contains("its result will come by webhook", longOutput, StringComparison.Ordinal);
            Assert.Contains("Long running operation completed. Duration: 1 seconds, Steps: 3.", longOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("was refused (401)", longOutput, StringComparison.Ordinal);

            // A client with another secret refuses the server's delivery (its signature does not match; --verbose shows
            // it); the server then sends the result on the session's stream, as it does whenever the webhook cannot take it.
            var (strangerExit, strangerOutput) = await _cli.RunAsync(["call", "--transport", "hybrid", "--server-url", url, "--secret", NewSecret(), "--tool", LongTool, "--arg", "duration=1", "--arg", "steps=2", "--json", "--verbose"]);
            Assert.True(strangerExit == 0, strangerOutput);
            Assert.Contains("was refused (401): The signature does not match", strangerOutput, StringComparison.Ordinal);
            Assert.StartsWith("Long running operation completed.", (string?)CliProcess.LastJsonLine(strangerOutput)["content"]![0]!["text"], StringComparison.Ordinal);
            Assert.False(serve.HasExited);
        }
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("json")]
    public async Task Our_hybrid_client_gets_progress_and_the_webhook_result_and_the_servers_sampling_request(string responseMode)
    {
        var (serve, url) = await StartAsync("--webhook-tool", LongTool, "--response-mode", responseMode);
        await using (serve)
        {
            var logs = new CollectingLoggerProvider(LogLevel.Debug);
            using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
            await using var client = await ConnectAsync(url, loggerFactory, sampling: true);

            var tools = await client.ListToolsAsync(cancellationToken: Timeout);
            var longTool = Assert.Single(tools, t => t.Name == LongTool);
            Assert.Equal("webhook", (string?)longTool.ProtocolTool.Meta?["asyncmcp/delivery"]);
            Assert.Null(Assert.Single(tools, t => t.Name == "get-sum").ProtocolTool.Meta?["asyncmcp/delivery"]);

            var progress = new ConcurrentQueue<ProgressNotificationValue>();
            var result = await client.CallToolAsync(LongTool, new Dictionary<string, object?> { ["duration"] = 1, ["steps"] = 3 }, new SyncProgress(progress.Enqueue), cancellationToken: Timeout);
            Assert.Equal("Long running operation completed. Duration: 1 seconds, Steps: 3.", Text(result));
            Assert.Contains(logs.Entries, e => e.Message.Contains("its result will come by webhook", StringComparison.Ordinal));
            await Eventually(() => progress.Count >= 2);
            Assert.All(progress, p => Assert.Equal(3, p.Total));

            // server-everything offers its sampling tool only to clients that can sample: the forwarder offered ours.
            var sampled = await client.CallToolAsync("trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "hello", ["maxTokens"] = 5 }, cancellationToken: Timeout);
            Assert.Contains("sampled by the test", Text(sampled), StringComparison.Ordinal);
            Assert.Contains("trigger-sampling-request context: hello", Text(sampled), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_inspector_uses_the_bridged_hybrid_server_as_an_ordinary_Streamable_HTTP_server()
    {
        var (serve, url) = await StartAsync("--webhook-tool", LongTool);
        await using (serve)
        {
            var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
            try
            {
                var list = await CliProcess.InspectUrlAsync(url, home.FullName, "--method", "tools/list");
                var tools = list["tools"]!.AsArray();
                Assert.Contains(tools, t => (string?)t!["name"] == "echo");
                Assert.Equal("webhook", (string?)tools.Single(t => (string?)t!["name"] == LongTool)!["_meta"]!["asyncmcp/delivery"]);

                var echo = await CliProcess.InspectUrlAsync(url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=through the hybrid bridge");
                Assert.Equal("Echo: through the hybrid bridge", (string?)echo["content"]![0]!["text"]);

                // The Inspector names no webhook: the webhook tool answers it on the stream, with its real result.
                var longRun = await CliProcess.InspectUrlAsync(url, home.FullName, "--method", "tools/call", "--tool-name", LongTool, "--tool-arg", "duration=1", "steps=2");
                Assert.Equal("Long running operation completed. Duration: 1 seconds, Steps: 2.", (string?)longRun["content"]![0]!["text"]);

                Assert.NotEmpty((await CliProcess.InspectUrlAsync(url, home.FullName, "--method", "resources/list"))["resources"]!.AsArray());
                Assert.NotEmpty((await CliProcess.InspectUrlAsync(url, home.FullName, "--method", "prompts/list"))["prompts"]!.AsArray());
            }
            finally
            {
                home.Delete(recursive: true);
            }
        }
    }

    [Fact]
    public async Task Children_end_with_their_session_and_when_serve_stops_and_sessions_beyond_the_limit_are_refused()
    {
        // The webhook tools from the environment, comma-separated; a name that matches no tool is reported at start.
        var (serve, url) = await StartAsync(["--max-sessions", "2"], new() { ["ASYNCMCP_WEBHOOK_TOOLS"] = $"no-such-tool, {LongTool}" });
        await using (serve)
        {
            Assert.Contains("--webhook-tool 'no-such-tool' matches no tool of the MCP server", serve.Output, StringComparison.Ordinal);
            Assert.DoesNotContain($"--webhook-tool '{LongTool}'", serve.Output, StringComparison.Ordinal);

            // The probe's child is gone once the command serves.
            await Eventually(() => Children(serve.ProcessId).Length == 0);
            using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

            // A session's child ends when the client closes the session (DELETE).
            var first = await ConnectAsync(url, loggerFactory);
            Assert.Single(Children(serve.ProcessId));
            Assert.Equal("Echo: one", Text(await first.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: Timeout)));
            await first.DisposeAsync();
            await Eventually(() => Children(serve.ProcessId).Length == 0);

            // Two sessions, two children; a third session is refused with a clear error.
            await using var second = await ConnectAsync(url, loggerFactory);
            await using var third = await ConnectAsync(url, loggerFactory);
            var children = Children(serve.ProcessId);
            Assert.Equal(2, children.Length);
            var refused = await Assert.ThrowsAnyAsync<McpException>(() => ConnectAsync(url, loggerFactory));
            Assert.Contains("limit of 2 sessions", refused.Message, StringComparison.Ordinal);
            Assert.Equal("Echo: still", Text(await second.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still" }, cancellationToken: Timeout)));

            // SIGTERM: the command stops, and its children with it.
            using (var kill = Process.Start("kill", ["-TERM", serve.ProcessId.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Timeout);
            }

            await serve.WaitForExitAsync(TimeSpan.FromSeconds(30));
            await Eventually(() => children.All(pid => !IsAlive(pid)));
        }
    }

    [Fact]
    public async Task A_Streamable_HTTP_server_given_by_url_is_served_too()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var everything = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--import", Path.Combine(RepositoryPaths.Infra, "loopback-preload.mjs"), CliProcess.Everything, "streamableHttp"],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["PORT"] = port.ToString(CultureInfo.InvariantCulture) });
        await everything.WaitForLineAsync(l => l.Contains("listening on port", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await using var serve = ChildProcess.Start(
            "dotnet",
            [CliProcess.Cli, "serve", "--transport", "hybrid", "--listen", "http://127.0.0.1:0", "--allow-loopback-webhooks", "--secret", _secret, "--webhook-tool", LongTool, "--url", $"http://127.0.0.1:{port}/mcp"],
            RepositoryPaths.Infra,
            _cli.Environment());
        var line = await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        await using var client = await ConnectAsync(url, loggerFactory);

        Assert.Equal("The sum of 4 and 5 is 9.", Text(await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 4, ["b"] = 5 }, cancellationToken: Timeout)));
        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var result = await client.CallToolAsync(LongTool, new Dictionary<string, object?> { ["duration"] = 1, ["steps"] = 2 }, new SyncProgress(progress.Enqueue), cancellationToken: Timeout);
        Assert.Equal("Long running operation completed. Duration: 1 seconds, Steps: 2.", Text(result));
        await Eventually(() => !progress.IsEmpty);
    }

    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private Task<(ChildProcess Serve, string Url)> StartAsync(params string[] options) => StartAsync(options, null);

    private async Task<(ChildProcess Serve, string Url)> StartAsync(string[] options, Dictionary<string, string>? environment)
    {
        var serve = await _cli.StartServeAsync(["--transport", "hybrid", "--listen", "http://127.0.0.1:0", "--allow-loopback-webhooks", "--secret", _secret, .. options], environment);
        var line = await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return (serve, line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim());
    }

    private async Task<McpClient> ConnectAsync(string url, ILoggerFactory loggerFactory, bool sampling = false)
    {
        var transport = new HybridClientTransport(new HybridClientTransportOptions { Endpoint = new Uri(url), Security = { Secret = _secret } }, loggerFactory);
        var options = new McpClientOptions();
        if (sampling)
        {
            options.Handlers.SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
            {
                Model = "test-model",
                Role = Role.Assistant,
                Content = [new TextContentBlock { Text = $"sampled by the test: {string.Join(" ", request!.Messages.SelectMany(m => m.Content).OfType<TextContentBlock>().Select(c => c.Text))}" }],
            });
        }

        return await McpClient.CreateAsync(transport, options, loggerFactory, Timeout);
    }

    /// <summary>The server-everything processes the command started (its direct children).</summary>
    private static int[] Children(int pid)
    {
        var children = new List<int>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return [.. children.Where(child => CommandLine(child).Contains("server-everything", StringComparison.Ordinal) && IsAlive(child))];
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>Whether the process exists and is not a zombie.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not 'Z' and not 'X';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;
}
