using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// Bad input only HTTP has (headers, sizes, content types, signatures) is answered at once with the right status code
/// and a JSON-RPC error carrying the right id, and the server goes on serving everyone else. (Bad bodies, unknown
/// sessions and missing webhooks are in the conformance suite: <see cref="WebhookConformanceTests"/>.)
/// </summary>
public sealed class WebhookBadInputTests
{
    private static JsonObject Call(int id, string message = "x") => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = "tools/call",
        ["params"] = new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = message } },
    };

    [Fact]
    public async Task Each_kind_of_bad_input_gets_its_status_and_error_and_the_server_keeps_serving()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.MaxRequestBodyBytes = 4096);
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var client = await harness.ConnectAsync(Protocols.November2025);
        var sessionId = await peer.OpenSessionAsync();

        // Malformed JSON whose id the X-Request-ID header names: 400, parse error, that id. (Without the header the id is
        // null, and JSON that is not JSON-RPC, unknown sessions and missing webhooks are in the conformance suite.)
        var (status, json, _) = await peer.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":", sessionId, headers: RequestIdHeader(6));
        AssertError(400, (int)McpErrorCodeParse, "parse_error", 6, status, json);

        // Missing X-Client-ID: 400 with the request's id.
        (status, json, _) = await peer.PostAsync(Call(8).ToJsonString(), sessionId, clientIdHeader: false);
        AssertError(400, -32600, "missing_header", 8, status, json);

        // Oversized: 413, with the id the X-Request-ID header names (the body is not read).
        (status, json, _) = await peer.PostAsync(Call(11, new string('x', 5000)), sessionId, RequestIdHeader(11));
        AssertError(413, -32600, "payload_too_large", 11, status, json);

        // Oversized without a Content-Length (chunked): still 413 with our error, not a dropped connection.
        (status, json) = await peer.PostChunkedAsync(Call(15, new string('y', 200_000)).ToJsonString(), sessionId, "15");
        AssertError(413, -32600, "payload_too_large", 15, status, json);

        // Within the limit without a Content-Length: read whole (the id comes from the body), then refused as unsigned.
        (status, json) = await peer.PostChunkedAsync(Call(16, new string('z', 3000)).ToJsonString(), sessionId);
        AssertError(401, -32600, "bad_signature", 16, status, json);

        // Wrong content type: 415, with the header's id; without the header the id is unknown (null).
        (status, json, _) = await peer.PostAsync(Call(12).ToJsonString(), sessionId, contentType: "text/plain", headers: RequestIdHeader(12));
        AssertError(415, -32600, "unsupported_content_type", 12, status, json);
        (status, json, _) = await peer.PostAsync(Call(12).ToJsonString(), sessionId, contentType: "text/plain");
        AssertError(415, -32600, "unsupported_content_type", null, status, json);

        // Unsigned, and signed with another secret: 401 with the id.
        (status, json, _) = await peer.PostAsync(Call(13).ToJsonString(), sessionId, sign: false);
        AssertError(401, -32600, "bad_signature", 13, status, json);
        await using (var stranger = await RawWebhookPeer.StartAsync(harness.Url, Webhooks.Signing.WebhookSecret.Generate()))
        {
            (status, json, _) = await stranger.PostAsync(Call(14).ToJsonString(), sessionId);
            AssertError(401, -32600, "bad_signature", 14, status, json);
        }

        // Everyone is still served; once this later call's answer is in, none of the refused ones was run or answered by webhook.
        var (okStatus, ok, _) = await peer.PostAsync(Call(20, "still here"), sessionId);
        Assert.Equal(200, okStatus);
        Assert.Equal("received", (string?)ok!["status"]);
        var answer = await peer.WaitForDeliveryAsync(20);
        Assert.Equal("Echo: still here", (string?)answer.Body["result"]!["content"]![0]!["text"]);
        Assert.DoesNotContain(peer.Deliveries, d => (int?)d.Body["id"] is >= 6 and <= 15);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "fine" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("Echo: fine", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bytes_that_are_not_UTF8_get_a_parse_error_and_nothing_is_run(bool inSession)
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = inSession ? await peer.OpenSessionAsync() : null;

        // Bytes that are not UTF-8: a parse error, not a body read with replacement characters. (Bodies the reader
        // refuses late, and requests of the wrong shape, are in the conformance suite.)
        var (notUtf8Status, notUtf8, _) = await peer.PostBytesAsync([.. "{\"jsonrpc\":\"2.0\",\"id\":60,\"method\":\"tools/list\",\"params\":{\"x\":\""u8, 0xC3, 0x28, .. "\"}}"u8], sessionId);
        AssertError(400, McpErrorCodeParse, "parse_error", null, notUtf8Status, notUtf8);

        // The server still serves, and the refused request was not run.
        var call = Call(61, "still here");
        if (!inSession)
        {
            call["params"]!["_meta"] = new JsonObject { ["webhookUrl"] = peer.WebhookUrl };
        }

        Assert.Equal(200, (await peer.PostAsync(call, sessionId)).Status);
        var answer = await peer.WaitForDeliveryAsync(61);
        Assert.Equal("Echo: still here", (string?)answer.Body["result"]!["content"]![0]!["text"]);
        Assert.DoesNotContain(peer.Deliveries, d => d.Body["error"] is not null);
    }

    [Fact]
    public async Task Delete_closes_a_session_and_unknown_sessions_get_404()
    {
        await using var harness = await WebhookHarness.StartAsync();
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();

        Assert.Equal(200, await peer.DeleteAsync(sessionId));
        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);
        Assert.Equal(404, await peer.DeleteAsync(sessionId));
        Assert.Equal(400, await peer.DeleteAsync(null));
        Assert.Equal(401, await peer.DeleteAsync("anything", sign: false));

        var (status, json, _) = await peer.PostAsync(Call(30), sessionId);
        AssertError(404, -32600, "session_not_found", 30, status, json);
    }

    [Fact]
    public async Task A_request_the_server_cannot_take_now_gets_503_and_a_retry_is_served()
    {
        var state = new Testing.TestServerState();
        await using var harness = await WebhookHarness.StartAsync(o => o.MaxConcurrentRequests = 1, Testing.TestMcpServer.CreateOptions(state));
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();
        await Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);

        var hold = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 40, ["method"] = "tools/call", ["params"] = new JsonObject { ["name"] = "hold" } };
        Assert.Equal(200, (await peer.PostAsync(hold, sessionId)).Status);
        await Eventually(() => state.RunningHolds == 1);

        var (status, json, response) = await peer.PostAsync(Call(41), sessionId);
        AssertError(503, -32603, "server_busy", 41, status, json);
        Assert.NotNull(response.Headers.RetryAfter);

        state.ReleaseHolds.TrySetResult();
        await peer.WaitForDeliveryAsync(40);
        await Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);
        Assert.Equal(200, (await peer.PostAsync(Call(41), sessionId)).Status);
        await peer.WaitForDeliveryAsync(41);
    }

    private const int McpErrorCodeParse = -32700;

    private static Dictionary<string, string> RequestIdHeader(int id) => new() { ["X-Request-ID"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static void AssertError(int expectedStatus, int expectedCode, string expectedReason, int? expectedId, int status, JsonNode? json)
    {
        Assert.Equal(expectedStatus, status);
        Assert.NotNull(json);
        Assert.Equal("2.0", (string?)json["jsonrpc"]);
        Assert.Equal(expectedCode, (int)json["error"]!["code"]!);
        Assert.Equal(expectedReason, (string?)json["error"]!["data"]!["reason"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)json["error"]!["message"]));
        Assert.Equal(expectedId, (int?)json["id"]);
    }
}
