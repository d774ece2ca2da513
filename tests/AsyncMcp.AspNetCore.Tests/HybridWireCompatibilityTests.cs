using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A client nobody on this team wrote the HTTP for: a Node script speaking asyncmcp's hybrid wire format with plain
/// fetch, verifying deliveries with the Standard Webhooks reference implementation (npm <c>standardwebhooks</c>).
/// </summary>
public sealed class HybridWireCompatibilityTests
{
    [Fact]
    public async Task Serves_an_asyncmcp_client_that_cannot_verify_when_unsigned_deliveries_are_allowed()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.Security = new() { AllowUnsigned = true });

        var result = await RunClientAsync(harness, secret: null);

        var delivery = result["steps"]!["slowDelivery"]!;
        Assert.Equal("done after 3 steps", (string?)delivery["body"]!["result"]!["content"]![0]!["text"]);
        Assert.Contains(harness.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("sends webhook deliveries unsigned", StringComparison.Ordinal));
    }

    private static async Task<JsonNode> RunClientAsync(HybridHarness harness, string? secret)
    {
        var environment = new Dictionary<string, string>
        {
            ["INFRA_DIR"] = RepositoryPaths.Infra,
            ["SERVER_URL"] = harness.Url.ToString(),
        };
        if (secret is not null)
        {
            environment["SECRET"] = secret;
        }

        await using var node = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-hybrid-client.mjs")],
            RepositoryPaths.Infra,
            environment);
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var result = JsonNode.Parse(line)!;
        Assert.Null(result["steps"]!["error"]);
        return result;
    }

    [Fact]
    public async Task An_asyncmcp_style_hybrid_client_gets_fast_answers_on_the_stream_and_the_long_tool_by_signed_webhook()
    {
        await using var harness = await HybridHarness.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["INFRA_DIR"] = RepositoryPaths.Infra,
            ["SERVER_URL"] = harness.Url.ToString(),
            ["SECRET"] = harness.Secret,
        };

        await using var node = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-hybrid-client.mjs")],
            RepositoryPaths.Infra,
            environment);
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var result = JsonNode.Parse(line)!;
        var steps = result["steps"]!;

        Assert.Null(steps["error"]);
        Assert.Equal(200, (int)steps["initialize"]!["status"]!);
        var sessionId = (string)steps["sessionId"]!;
        Assert.Equal(202, (int)steps["initialized"]!["status"]!);

        // tools/list says which tool answers by webhook.
        var tools = steps["list"]!["messages"]![0]!["result"]!["tools"]!.AsArray();
        Assert.Equal("webhook", (string?)tools.Single(t => (string?)t!["name"] == "slow")!["_meta"]!["asyncmcp/delivery"]);
        Assert.Null(tools.Single(t => (string?)t!["name"] == "echo")!["_meta"]);

        // The fast tool answers on the POST's stream.
        Assert.Equal("Echo: from python", (string?)steps["echo"]!["messages"]![0]!["result"]!["content"]![0]!["text"]);

        // The long tool's POST completes at once (the tool runs 600 ms) with an acknowledgement ...
        var slow = steps["slow"]!;
        Assert.Equal(200, (int)slow["status"]!);
        Assert.True((int)slow["ms"]! < 600, $"the POST took {(int)slow["ms"]!} ms");
        var ack = slow["messages"]!.AsArray().Single(m => m!["id"] is not null)!;
        Assert.Equal(4, (int)ack["id"]!);
        Assert.True((bool)ack["result"]!["_meta"]!["asyncmcp/accepted"]!);

        // ... and the result arrives by signed POST to the webhook, with the session header.
        var delivery = steps["slowDelivery"]!;
        Assert.Equal("done after 3 steps", (string?)delivery["body"]!["result"]!["content"]![0]!["text"]);
        Assert.Equal(sessionId, (string?)delivery["sessionHeader"]);
        Assert.True((bool)delivery["verified"]!);
        Assert.All(result["deliveries"]!.AsArray(), d => Assert.True((bool)d!["verified"]!));

        Assert.Equal(200, (int)steps["delete"]!["status"]!);
    }
}
