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
        Assert.Single(deliveries, d => (int?)d!["body"]!["id"] == 3 && d["body"]!["method"] is null);
        Assert.Equal(401, (int)steps["unsigned"]!["status"]!);
        Assert.DoesNotContain(deliveries, d => (int?)d!["body"]!["id"] is 4 or 5 && d["body"]!["method"] is null);
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

    [Fact]
    public async Task The_client_transports_requests_and_listener_check_out_against_the_reference_implementation()
    {
        var secret = Webhooks.Signing.WebhookSecret.Generate();
        await using var node = ChildProcess.StartWireScript(
            "standardwebhooks-server.mjs",
            new Dictionary<string, string> { ["SECRET"] = secret, ["OTHER_SECRET"] = Webhooks.Signing.WebhookSecret.Generate() });
        var listening = (string)JsonNode.Parse(await node.WaitForLineAsync(l => l.StartsWith("{\"listening\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))!["listening"]!;
        var transport = await new Webhooks.Client.WebhookClientTransport(new Webhooks.Client.WebhookClientTransportOptions
        {
            ServerUrl = new Uri(listening),
            Security = { Secret = secret },
            CloseSessionOnDispose = false,
        }).ConnectAsync(TestContext.Current.CancellationToken);
        await using var transportScope = transport;

        // The client transport signs its initialize; the reference server verifies it, then signs deliveries to the
        // webhook the initialize named (the transport's own listener).
        var initialize = new ModelContextProtocol.Protocol.JsonRpcRequest
        {
            Id = new ModelContextProtocol.Protocol.RequestId(1),
            Method = "initialize",
            Params = JsonNode.Parse("""{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}"""),
        };
        await transport.SendMessageAsync(initialize, TestContext.Current.CancellationToken);
        var result = JsonNode.Parse(await node.WaitForLineAsync(l => l.StartsWith("{\"requests\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))!;

        var request = Assert.Single(result["requests"]!.AsArray())!;
        Assert.Equal("initialize", (string?)request["rpcMethod"]);
        Assert.True((bool)request["verified"]!);

        // The listener takes what the reference signed, and refuses with 401 a tampered body, a stale timestamp and
        // another secret's signature.
        var deliveries = result["deliveries"]!;
        Assert.Equal(200, (int)deliveries["valid"]!["status"]!);
        Assert.Equal("success", (string?)deliveries["valid"]!["json"]!["status"]);
        foreach (var refused in new[] { "tampered", "stale", "otherSecret" })
        {
            Assert.Equal(401, (int)deliveries[refused]!["status"]!);
            Assert.Equal("bad_signature", (string?)deliveries[refused]!["json"]!["error"]!["data"]!["reason"]);
        }

        Assert.Equal(200, (int)deliveries["marker"]!["status"]!);

        // The session got the answer and then the marker, sent after the refused ones: nothing refused came through.
        var answer = Assert.IsType<ModelContextProtocol.Protocol.JsonRpcResponse>(await transport.MessageReader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal(new ModelContextProtocol.Protocol.RequestId(1), answer.Id);
        var next = Assert.IsType<ModelContextProtocol.Protocol.JsonRpcNotification>(await transport.MessageReader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal("marker", next.Params!["data"]!.GetValue<string>());
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

        // A server->client request (sampling) arrived by POST with X-Request-ID and X-Method; the client's answer,
        // POSTed to the server URL, completed the tool.
        var sampling = result["samplingRequest"]!;
        Assert.Equal("sampling/createMessage", (string?)sampling["methodHeader"]);
        Assert.Equal(sampling["body"]!["id"]!.ToJsonString().Trim('"'), (string?)sampling["requestIdHeader"]);
        Assert.Equal(sessionId, (string?)sampling["sessionHeader"]);
        Assert.Equal("received", (string?)steps["samplingAnswer"]!["json"]!["status"]);
        Assert.Equal("model python-model said: hi from python", (string?)result["sampleDelivery"]!["body"]!["result"]!["content"]![0]!["text"]);
        Assert.Equal("Echo: marker", (string?)result["markerDelivery"]!["body"]!["result"]!["content"]![0]!["text"]);
        Assert.All(result["deliveries"]!.AsArray(), d => Assert.Equal(sessionId, (string?)d!["sessionHeader"]));
    }

    private static async Task<JsonNode> RunClientAsync(WebhookHarness harness, string? secret)
    {
        await using var node = ChildProcess.StartWireScript("asyncmcp-webhook-client.mjs", ClientEnvironment(harness.Url, secret));
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"steps\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        return JsonNode.Parse(line)!;
    }

    /// <summary>What a wire-level client script needs: the server's URL and, when it signs, the secret.</summary>
    internal static Dictionary<string, string> ClientEnvironment(Uri serverUrl, string? secret)
    {
        var environment = new Dictionary<string, string> { ["SERVER_URL"] = serverUrl.ToString() };
        if (secret is not null)
        {
            environment["SECRET"] = secret;
        }

        return environment;
    }
}
