using System.Net;
using AsyncMcp.AspNetCore.Hybrid.Server;
using ModelContextProtocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>Bad input to the hybrid endpoint gets the standard Streamable HTTP status codes and JSON-RPC errors with the right id, in both response modes.</summary>
public sealed class HybridBadInputTests
{
    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task Bad_requests_get_standard_statuses_and_the_server_keeps_serving(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(webhookUrl: null);
        var call = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"x\"}}}";

        var wrongType = await raw.PostAsync(call, contentType: "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.Status);

        var notAcceptable = await raw.PostAsync(call, accept: "text/html");
        Assert.Equal(HttpStatusCode.NotAcceptable, notAcceptable.Status);

        var malformed = await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        var parseError = Assert.Single(malformed.Messages);
        Assert.Equal((int)McpErrorCode.ParseError, (int)parseError["error"]!["code"]!);

        var unknownTool = await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\",\"arguments\":{}}}");
        var unknownToolError = Assert.Single(unknownTool.Messages);
        Assert.Equal(9, (int)unknownToolError["id"]!);
        Assert.NotNull(unknownToolError["error"] ?? unknownToolError["result"]?["isError"]);

        var known = raw.SessionId;
        raw.SessionId = "no-such-session";
        var unknownSession = await raw.PostAsync(call);
        Assert.Equal(HttpStatusCode.NotFound, unknownSession.Status);
        raw.SessionId = known;

        var fine = await raw.PostAsync(call);
        Assert.Equal(HttpStatusCode.OK, fine.Status);
        Assert.Equal(mode == HybridResponseMode.Json ? "application/json" : "text/event-stream", fine.ContentType);
        Assert.Equal("Echo: x", (string)Assert.Single(fine.Messages)["result"]!["content"]![0]!["text"]!);
    }

    [Fact]
    public async Task Json_mode_answers_a_webhook_call_promptly_with_one_JSON_acknowledgement()
    {
        await using var harness = await HybridHarness.StartAsync(HybridResponseMode.Json);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(RawStreamableHttp.DeadWebhookUrl());

        // The tool holds until released: the POST must still complete at once. This client reads acknowledgements.
        var ack = await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"hold\",\"arguments\":{},\"_meta\":{\"asyncmcp/acknowledge\":true}}}");

        Assert.Equal(HttpStatusCode.OK, ack.Status);
        Assert.Equal("application/json", ack.ContentType);
        var message = Assert.Single(ack.Messages);
        Assert.Equal(11, (int)message["id"]!);
        Assert.Equal("webhook", (string)message["result"]!["_meta"]!["asyncmcp/delivery"]!);
        await Protocols.Eventually(() => harness.State.RunningHolds == 1);
        harness.State.ReleaseHolds.TrySetResult();
    }

    [Theory]
    [InlineData("DeliveryTimeout")]
    [InlineData("WebhookTools")]
    [InlineData("Secret")]
    [InlineData("UndeliveredResultRetention")]
    public async Task Invalid_options_fail_at_start_naming_the_option(string option)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => HybridHarness.StartAsync(configure: o =>
        {
            switch (option)
            {
                case "DeliveryTimeout":
                    o.DeliveryTimeout = TimeSpan.Zero;
                    break;
                case "WebhookTools":
                    o.WebhookTools.Add(" ");
                    break;
                case "Secret":
                    o.Security.Secret = null;
                    break;
                case "UndeliveredResultRetention":
                    o.UndeliveredResultRetention = TimeSpan.FromDays(30);
                    break;
            }
        }));

        Assert.Contains($"HybridServerTransportOptions.", error.Message, StringComparison.Ordinal);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_options_are_checked_when_the_transport_is_created()
    {
        var missing = Assert.Throws<ArgumentException>(() => new Hybrid.Client.HybridClientTransport(new Hybrid.Client.HybridClientTransportOptions()));
        Assert.Contains("HybridClientTransportOptions.Endpoint", missing.Message, StringComparison.Ordinal);

        var unsigned = Assert.Throws<ArgumentException>(() => new Hybrid.Client.HybridClientTransport(new Hybrid.Client.HybridClientTransportOptions { Endpoint = new Uri("http://127.0.0.1:1/mcp") }));
        Assert.Contains("Security.Secret", unsigned.Message, StringComparison.Ordinal);

        // Without a webhook nothing needs verifying.
        _ = new Hybrid.Client.HybridClientTransport(new Hybrid.Client.HybridClientTransportOptions { Endpoint = new Uri("http://127.0.0.1:1/mcp"), UseWebhook = false });
    }
}
