using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>Clients that know nothing of webhooks, the MCP Inspector's CLI and the TypeScript SDK (npm), list and call every kind of tool on the hybrid server.</summary>
public sealed class HybridInspectorTests
{
    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task The_inspector_lists_and_calls_fast_and_webhook_tools(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            var list = await InspectAsync(harness, home.FullName, "--method", "tools/list");
            var tools = list["tools"]!.AsArray();
            Assert.Equal("webhook", (string?)tools.Single(t => (string?)t!["name"] == "slow")!["_meta"]!["asyncmcp/delivery"]);
            Assert.Contains(tools, t => (string?)t!["name"] == "echo");

            var echo = await InspectAsync(harness, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=inspected");
            Assert.Equal("Echo: inspected", (string?)echo["content"]![0]!["text"]);

            // It names no webhook, so the webhook tool answers on the stream with its real result.
            var slow = await InspectAsync(harness, home.FullName, "--method", "tools/call", "--tool-name", "slow", "--tool-arg", "steps=2", "delayMs=10");
            Assert.Equal("done after 2 steps", (string?)slow["content"]![0]!["text"]);
            Assert.False(harness.Logged("will be delivered by webhook"));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task The_TypeScript_SDK_lists_and_calls_fast_and_webhook_tools_and_gets_progress(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);

        await using var node = ChildProcess.StartWireScript("typescript-sdk-client.mjs", new Dictionary<string, string> { ["SERVER_URL"] = harness.Url.ToString() });
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"typescript\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var result = JsonNode.Parse(line)!["typescript"]!;

        Assert.Null(result["error"]);
        Assert.NotNull((string?)result["sessionId"]);
        Assert.Equal("2025-11-25", (string?)result["protocolVersion"]);
        var tools = result["tools"]!.AsArray();
        Assert.Equal("webhook", (string?)tools.Single(t => (string?)t!["name"] == "slow")!["delivery"]);
        Assert.Null((string?)tools.Single(t => (string?)t!["name"] == "echo")!["delivery"]);
        Assert.Equal("Echo: from typescript", (string?)result["echo"]!["content"]![0]!["text"]);

        // It names no webhook, so the webhook tool answers it on the stream with its real result, progress first.
        Assert.Equal("done after 3 steps", (string?)result["slow"]!["content"]![0]!["text"]);
        Assert.Null(result["slow"]!["_meta"]);
        if (mode == HybridResponseMode.Sse)
        {
            Assert.Equal([1, 2, 3], result["progress"]!.AsArray().Select(p => (int)p!));
        }

        Assert.False(harness.Logged("will be delivered by webhook"));
    }

    private static async Task<JsonNode> InspectAsync(HybridHarness harness, string home, params string[] arguments)
    {
        var launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
        await using var inspector = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", launcher, "--cli", harness.Url.ToString(), "--transport", "http", .. arguments],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["HOME"] = home });
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        var output = inspector.Output;
        return JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!;
    }
}
