using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A client nobody on this team wrote the HTTP for: a Node script speaking asyncmcp's webhook wire format with
/// plain HTTP, signing and verifying with the Standard Webhooks reference implementation (npm <c>standardwebhooks</c>).
/// </summary>
public sealed class WebhookWireCompatibilityTests
{
    [Fact]
    public async Task Signed_requests_and_deliveries_check_out_against_the_reference_implementation()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var result = await RunClientAsync(harness, harness.Secret);
        var steps = result["steps"]!;

        AssertWireConversation(result);

        // Every delivery our server signed verifies with the reference implementation.
        var deliveries = result["deliveries"]!.AsArray();
        Assert.NotEmpty(deliveries);
        Assert.All(deliveries, d => Assert.True((bool)d!["verified"]!));

        // Requests signed by the reference implementation were accepted (above); a tampered one is refused with 401
        // and a JSON-RPC error carrying its id; a replay is not run again; an unsigned one is refused.
        Assert.Equal(401, (int)steps["tampered"]!["status"]!);
        Assert.Equal(4, (int)steps["tampered"]!["json"]!["id"]!);
        Assert.Equal("bad_signature", (string?)steps["tampered"]!["json"]!["error"]!["data"]!["reason"]);
        Assert.Equal(200, (int)steps["replay"]!["status"]!);
        Assert.Equal("duplicate", (string?)steps["replay"]!["json"]!["status"]);
        Assert.Single(deliveries, d => (int?)d!["body"]!["id"] == 3);
        Assert.Equal(401, (int)steps["unsigned"]!["status"]!);
        Assert.DoesNotContain(deliveries, d => (int?)d!["body"]!["id"] is 4 or 5);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("refused (401)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serves_an_unsigned_asyncmcp_client_when_explicitly_allowed()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.Security = new() { AllowUnsigned = true });
        var result = await RunClientAsync(harness, secret: null);

        AssertWireConversation(result);
        Assert.Contains(harness.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("accepts unsigned requests", StringComparison.Ordinal));
    }

    private static void AssertWireConversation(JsonNode result)
    {
        var steps = result["steps"]!;
        var init = steps["initialize"]!;
        Assert.Equal(200, (int)init["status"]!);
        Assert.Equal("session_created", (string?)init["json"]!["status"]);
        var sessionId = (string)init["json"]!["session_id"]!;
        Assert.Equal(sessionId, (string?)init["sessionHeader"]);

        Assert.Equal("initialized", (string?)steps["initialized"]!["json"]!["status"]);
        Assert.Equal("received", (string?)steps["list"]!["json"]!["status"]);
        Assert.Equal("received", (string?)steps["call"]!["json"]!["status"]);
        Assert.Equal(200, (int)steps["delete"]!["status"]!);
        Assert.Equal("terminated", (string?)steps["delete"]!["json"]!["status"]);

        // Every JSON-RPC answer arrived by POST to the webhook, with the session header.
        var initialized = result["initializeDelivery"]!;
        Assert.Equal("2025-11-25", (string?)initialized["body"]!["result"]!["protocolVersion"]);
        Assert.Equal("asyncmcp-test-server", (string?)initialized["body"]!["result"]!["serverInfo"]!["name"]);
        Assert.Equal(sessionId, (string?)initialized["sessionHeader"]);
        Assert.StartsWith("application/json", (string?)initialized["contentType"], StringComparison.Ordinal);
        Assert.Contains(result["listDelivery"]!["body"]!["result"]!["tools"]!.AsArray(), t => (string?)t!["name"] == "echo");
        Assert.Equal("Echo: from python", (string?)result["callDelivery"]!["body"]!["result"]!["content"]![0]!["text"]);
        Assert.All(result["deliveries"]!.AsArray(), d => Assert.Equal(sessionId, (string?)d!["sessionHeader"]));
    }

    private static async Task<JsonNode> RunClientAsync(WebhookHarness harness, string? secret)
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
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-webhook-client.mjs")],
            RepositoryPaths.Infra,
            environment);
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        return JsonNode.Parse(line)!;
    }
}
