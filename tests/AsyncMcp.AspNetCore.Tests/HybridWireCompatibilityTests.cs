using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A client nobody on this team wrote the HTTP for: a Node script speaking as asyncmcp's Python hybrid client does,
/// with plain fetch, taking every response it reads (on a POST or by webhook) as the answer to the request with that
/// id, and verifying deliveries with the Standard Webhooks reference implementation (npm <c>standardwebhooks</c>).
/// </summary>
public sealed class HybridWireCompatibilityTests
{
    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task An_asyncmcp_hybrid_client_gets_fast_answers_on_the_stream_and_webhook_results_by_signed_webhook_only(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);

        var result = await RunClientAsync(harness, harness.Secret);

        var steps = result["steps"]!;
        Assert.Equal(200, (int)steps["initialize"]!["status"]!);
        var sessionId = (string)steps["sessionId"]!;
        Assert.Equal(202, (int)steps["initialized"]!["status"]!);

        // tools/list says which tool answers by webhook.
        var tools = steps["list"]!["messages"]![0]!["result"]!["tools"]!.AsArray();
        Assert.Equal("webhook", (string?)tools.Single(t => (string?)t!["name"] == "slow")!["_meta"]!["asyncmcp/delivery"]);
        Assert.Null(tools.Single(t => (string?)t!["name"] == "echo")!["_meta"]);

        // The fast tool answers on the POST.
        Assert.Equal("Echo: from python", (string?)steps["echoResult"]!["result"]!["content"]![0]!["text"]);

        // The webhook tool's POST carries no response (the client would take it as the result): an SSE stream that
        // ends empty, or 202 in JSON mode. Its one and only result is the webhook delivery, signed, with the session header.
        var slow = steps["slow"]!;
        Assert.Equal(mode == HybridResponseMode.Json ? 202 : 200, (int)slow["status"]!);
        Assert.Empty(slow["messages"]!.AsArray());
        Assert.Equal("webhook", (string?)steps["slowResult"]!["source"]);
        Assert.Equal("done after 3 steps", (string?)steps["slowResult"]!["message"]!["result"]!["content"]![0]!["text"]);
        Assert.Equal(1, (int)steps["responses"]!["4"]!);
        var delivery = result["deliveries"]!.AsArray().Single(d => (int?)d!["body"]!["id"] == 4)!;
        Assert.Equal(sessionId, (string?)delivery["sessionHeader"]);
        Assert.All(result["deliveries"]!.AsArray(), d => Assert.True((bool)d!["verified"]!));

        Assert.Equal("released", (string?)steps["heldResult"]!["message"]!["result"]!["content"]![0]!["text"]);
        Assert.Equal(1, (int)steps["responses"]!["5"]!);
        Assert.Equal(200, (int)steps["delete"]!["status"]!);
    }

    [Fact]
    public async Task Serves_an_asyncmcp_client_that_cannot_verify_when_unsigned_deliveries_are_allowed()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.Security = new() { AllowUnsigned = true });

        var result = await RunClientAsync(harness, secret: null);

        Assert.Equal("done after 3 steps", (string?)result["steps"]!["slowResult"]!["message"]!["result"]!["content"]![0]!["text"]);
        Assert.Contains(harness.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("sends webhook deliveries unsigned", StringComparison.Ordinal));
    }

    /// <summary>
    /// Runs the script. It prints a line once the POST of the held tool has returned; the tool is still running then
    /// (proving the POST completes promptly without timing it), and is released for the script to finish.
    /// </summary>
    private static async Task<JsonNode> RunClientAsync(HybridHarness harness, string? secret)
    {
        await using var node = ChildProcess.StartWireScript("asyncmcp-hybrid-client.mjs", WebhookWireCompatibilityTests.ClientEnvironment(harness.Url, secret));
        var heldLine = await node.WaitForLineAsync(l => l.StartsWith("{\"held\"", StringComparison.Ordinal) || l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        Assert.StartsWith("{\"held\"", heldLine, StringComparison.Ordinal);
        Assert.Equal(1, harness.State.RunningHolds);
        Assert.Empty(JsonNode.Parse(heldLine)!["held"]!["messages"]!.AsArray());
        harness.State.ReleaseHolds.TrySetResult();

        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var result = JsonNode.Parse(line)!;
        Assert.Null(result["steps"]!["error"]);
        return result;
    }
}
