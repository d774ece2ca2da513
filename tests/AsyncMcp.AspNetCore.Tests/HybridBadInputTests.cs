using System.Net;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Server;
using ModelContextProtocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// Bad input to the hybrid endpoint gets the standard Streamable HTTP status codes and JSON-RPC errors with the right
/// id, in both response modes. (What every transport must refuse is in the conformance suite, which runs in both
/// response modes: <see cref="HybridConformanceTests"/>, <see cref="HybridJsonConformanceTests"/>.)
/// </summary>
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

        // (Bodies that are not JSON or not JSON-RPC, bodies the reader refuses late, requests of the wrong shape and
        // requests on unknown sessions are in the conformance suite.) Bytes that are not UTF-8: a parse error, not a
        // body read with replacement characters.
        AssertError(await raw.PostBytesAsync([.. "{\"jsonrpc\":\"2.0\",\"id\":60,\"method\":\"tools/list\",\"params\":{\"x\":\""u8, 0xC3, 0x28, .. "\"}}"u8]), HttpStatusCode.BadRequest, McpErrorCode.ParseError, id: null);
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":\"s-16\",\"method\":\"tools/call\",\"params\":\"bad\"}"), HttpStatusCode.OK, McpErrorCode.InvalidParams, id: "s-16");
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}"), HttpStatusCode.OK, McpErrorCode.InvalidParams, id: 17);
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\",\"arguments\":{}}}"), HttpStatusCode.OK, McpErrorCode.InvalidParams, id: 9);
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"no/such/method\",\"params\":{}}"), HttpStatusCode.OK, McpErrorCode.MethodNotFound, id: 18);

        var known = raw.SessionId;
        raw.SessionId = "no-such-session";
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetRefusedAsync()).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await raw.DeleteAsync()).Status);
        raw.SessionId = known;

        var fine = await raw.PostAsync(call);
        Assert.Equal(HttpStatusCode.OK, fine.Status);
        Assert.Equal(mode == HybridResponseMode.Json ? "application/json" : "text/event-stream", fine.ContentType);
        Assert.Equal("Echo: x", (string)Assert.Single(fine.Messages)["result"]!["content"]![0]!["text"]!);
    }

    [Theory]
    [InlineData(HybridResponseMode.Sse)]
    [InlineData(HybridResponseMode.Json)]
    public async Task Bad_sessionless_requests_get_standard_statuses_and_their_id(HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        using var raw = new RawStreamableHttp(harness.Url);
        const string Meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}";

        // 2026-07-28 requests also carry the method (and the tool's name) as headers.
        static Dictionary<string, string> Headers(string method, string? name = null) => name is null
            ? new() { ["Mcp-Method"] = method }
            : new() { ["Mcp-Method"] = method, ["Mcp-Name"] = name };
        const string July = "2026-07-28";

        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":", protocolVersion: July), HttpStatusCode.BadRequest, McpErrorCode.ParseError, id: null);
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":41}", protocolVersion: July), HttpStatusCode.BadRequest, McpErrorCode.InvalidRequest, id: 41);
        AssertError(await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/list\",\"params\":{}}", protocolVersion: July, headers: Headers("tools/list")), HttpStatusCode.BadRequest, McpErrorCode.InvalidParams, id: 42);
        AssertError(await raw.PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"tools/list\",\"params\":{{{Meta}}}}}", protocolVersion: July), HttpStatusCode.BadRequest, McpErrorCode.HeaderMismatch, id: 43);
        AssertError(await raw.PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":44,\"method\":\"tools/call\",\"params\":{{\"name\":\"nope\",\"arguments\":{{}},{Meta}}}}}", protocolVersion: July, headers: Headers("tools/call", "nope")), HttpStatusCode.OK, McpErrorCode.InvalidParams, id: 44);

        var fine = await raw.PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":45,\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"message\":\"y\"}},{Meta}}}}}", protocolVersion: July, headers: Headers("tools/call", "echo"));
        Assert.Equal(HttpStatusCode.OK, fine.Status);
        Assert.Null(raw.SessionId);
        Assert.Equal("Echo: y", (string)Assert.Single(fine.Messages)["result"]!["content"]![0]!["text"]!);
    }

    /// <summary>One JSON-RPC error with exactly this status, code and id (<see langword="null"/>: a JSON null id, present).</summary>
    private static void AssertError((HttpStatusCode Status, string? ContentType, List<JsonObject> Messages, string Body) answer, HttpStatusCode status, McpErrorCode code, object? id)
    {
        Assert.True(answer.Status == status, $"expected {(int)status}, got {(int)answer.Status}: {answer.Body}");
        var error = Assert.Single(answer.Messages);
        Assert.True(error["error"] is JsonObject, $"expected a JSON-RPC error, got {answer.Body}");
        Assert.True((int)error["error"]!["code"]! == (int)code, $"expected code {(int)code}: {answer.Body}");
        Assert.True(error.ContainsKey("id"), $"the error has no id member: {answer.Body}");
        JsonNode? expected = id switch
        {
            int number => JsonValue.Create(number),
            string text => JsonValue.Create(text),
            _ => null,
        };
        Assert.True(JsonNode.DeepEquals(error["id"], expected), $"expected id {expected?.ToJsonString() ?? "null"}: {answer.Body}");
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
        await Eventually(() => harness.State.RunningHolds == 1);
        harness.State.ReleaseHolds.TrySetResult();
    }

    [Fact]
    public async Task Json_mode_fails_a_fast_tools_request_to_the_client_at_once_when_no_GET_stream_can_carry_it()
    {
        await using var harness = await HybridHarness.StartAsync(HybridResponseMode.Json);
        using var raw = new RawStreamableHttp(harness.Url);
        await raw.InitializeAsync(webhookUrl: null, capabilities: "{\"sampling\":{}}");

        // Answered on the stream (no webhook), and a JSON body cannot carry the tool's sampling request: without a GET
        // stream it has nowhere to go, so the tool learns that at once instead of waiting for an answer for ever.
        var answer = await raw.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":51,\"method\":\"tools/call\",\"params\":{\"name\":\"sample\",\"arguments\":{\"prompt\":\"hi\"}}}").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var result = Assert.Single(answer.Messages)["result"]!;
        Assert.True((bool)result["isError"]!);
        Assert.Contains("GET stream", (string)result["content"]![0]!["text"]!, StringComparison.Ordinal);
        await Eventually(() => harness.Logged("sampling/createMessage"));
    }

    [Fact]
    public async Task Json_mode_carries_a_fast_tools_sampling_request_on_the_open_GET_stream()
    {
        await using var harness = await HybridHarness.StartAsync(HybridResponseMode.Json);
        var options = new ModelContextProtocol.Client.McpClientOptions
        {
            Handlers = new ModelContextProtocol.Client.McpClientHandlers
            {
                SamplingHandler = (_, _, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.CreateMessageResult
                {
                    Model = "m",
                    Role = ModelContextProtocol.Protocol.Role.Assistant,
                    Content = [new ModelContextProtocol.Protocol.TextContentBlock { Text = "sampled" }],
                }),
            },
        };
        var client = await harness.ConnectAsync(Protocols.November2025, o => o.UseWebhook = false, options);
        await Eventually(() => harness.Logged($"GET stream of session {client.SessionId} opened"));

        var result = await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "hi" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("model m said: sampled", HybridEndToEndTests.Text(result));
    }

    [Theory]
    [InlineData("DeliveryTimeout")]
    [InlineData("WebhookTools")]
    [InlineData("Secret")]
    [InlineData("UndeliveredResultRetention")]
    [InlineData("MaxConcurrentWebhookCalls")]
    [InlineData("MaxConcurrentWebhookCallsPerSession")]
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
                case "MaxConcurrentWebhookCalls":
                    o.MaxConcurrentWebhookCalls = 0;
                    break;
                case "MaxConcurrentWebhookCallsPerSession":
                    o.MaxConcurrentWebhookCallsPerSession = o.MaxConcurrentWebhookCalls + 1;
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
