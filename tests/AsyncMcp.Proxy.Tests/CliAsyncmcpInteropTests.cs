using System.Text.Json.Nodes;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The <c>asyncmcp</c> command's clients, with default settings, against wire-level fakes of asyncmcp's Python webhook
/// and hybrid servers (<c>wire/asyncmcp-*-server.mjs</c>, shared with the AspNetCore tests): <c>call</c>, and
/// <c>proxy</c> in front of a standard MCP client, which must forward requests concurrently.
/// </summary>
public sealed class CliAsyncmcpInteropTests(BridgeEmulator emulator)
{
    private readonly CliProcess _cli = new(emulator);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Call_over_webhooks_lists_and_calls_tools_of_asyncmcps_webhook_server()
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-webhook-server.mjs");
        string[] common = ["call", "--transport", "webhook", "--server-url", fake.Url, "--allow-unsigned", "--json"];

        var (listExit, listOutput) = await _cli.RunAsync(common);
        Assert.True(listExit == 0, listOutput);
        Assert.Contains(CliProcess.LastJsonLine(listOutput).AsArray(), t => (string?)t!["name"] == "countdown");

        var (exit, output) = await _cli.RunAsync([.. common, "--tool", "countdown", "--arg", "steps=2"]);
        Assert.True(exit == 0, output);
        Assert.Equal("Counted down from 2", (string?)CliProcess.LastJsonLine(output)["content"]![0]!["text"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public async Task Call_over_the_hybrid_transport_returns_a_webhook_tools_result_from_asyncmcps_hybrid_server(string jsonResponse)
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-hybrid-server.mjs", new Dictionary<string, string> { ["JSON_RESPONSE"] = jsonResponse });

        var (exit, output) = await _cli.RunAsync(["call", "--transport", "hybrid", "--server-url", fake.Url, "--allow-unsigned", "--tool", "slow_report", "--arg", "steps=2", "--json"]);

        Assert.True(exit == 0, output);
        Assert.Equal("report ready after 2 steps", (string?)CliProcess.LastJsonLine(output)["content"]![0]!["text"]);
        await fake.WaitForAsync("webhook", w => (int?)w["status"] == 200);
    }

    [Theory]
    [InlineData("stdio")]
    [InlineData("listen")]
    public async Task Proxy_over_the_hybrid_transport_forwards_requests_concurrently(string front)
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-hybrid-server.mjs");
        string[] proxy = ["proxy", "--transport", "hybrid", "--server-url", fake.Url, "--allow-unsigned"];
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        await using var listening = front == "listen" ? ChildProcess.Start("dotnet", [CliProcess.Cli, .. proxy, "--listen", "http://127.0.0.1:0"], RepositoryPaths.Infra, _cli.Environment()) : null;
        IClientTransport transport;
        if (listening is null)
        {
            transport = new StdioClientTransport(new StdioClientTransportOptions
            {
                Command = "dotnet",
                Arguments = [CliProcess.Cli, .. proxy],
                WorkingDirectory = RepositoryPaths.Infra,
                EnvironmentVariables = _cli.Environment().ToDictionary(p => p.Key, p => (string?)p.Value),
            });
        }
        else
        {
            var line = await listening.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim()) }, loggerFactory);
        }

        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions(), loggerFactory, Timeout);
        using var http = new HttpClient();
        var release = new Uri(new Uri(fake.Url), "/_fake/release?name=first");
        try
        {
            // The first call is held on the server until the test releases it; its POST stays open all the while.
            var held = client.CallToolAsync("hold", new Dictionary<string, object?> { ["name"] = "first" }, cancellationToken: Timeout).AsTask();
            await fake.WaitForAsync("holding", h => (string?)h["name"] == "first");

            // A second call goes through the proxy while the first is still running, and is answered.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "meanwhile" }, cancellationToken: deadline.Token);
            Assert.Equal("Echo: meanwhile", Text(echo));
            Assert.False(held.IsCompleted);

            (await http.PostAsync(release, null, Timeout)).EnsureSuccessStatusCode();
            Assert.Equal("released first", Text(await held.WaitAsync(TimeSpan.FromSeconds(30), Timeout)));
        }
        finally
        {
            using var _ = await http.PostAsync(release, null, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Proxy_over_the_hybrid_transport_ends_the_POST_of_a_request_the_client_cancels_and_forwards_the_cancellation()
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-hybrid-server.mjs");
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments = [CliProcess.Cli, "proxy", "--transport", "hybrid", "--server-url", fake.Url, "--allow-unsigned"],
            WorkingDirectory = RepositoryPaths.Infra,
            EnvironmentVariables = _cli.Environment().ToDictionary(p => p.Key, p => (string?)p.Value),
        });
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions(), loggerFactory, Timeout);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var held = client.CallToolAsync("hold", new Dictionary<string, object?> { ["name"] = "cancelled" }, cancellationToken: cancel.Token).AsTask();
        await fake.WaitForAsync("holding", h => (string?)h["name"] == "cancelled");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);

        // The proxy stopped the POST that was still waiting for the held call, then forwarded notifications/cancelled.
        await fake.WaitForAsync("abandoned", r => (string?)r["rpcMethod"] == "tools/call");
        await fake.WaitForAsync("request", r => (string?)r["rpcMethod"] == "notifications/cancelled" && (int)r["status"]! == 202);
        Assert.Equal("Echo: after", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after" }, cancellationToken: Timeout)));
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
