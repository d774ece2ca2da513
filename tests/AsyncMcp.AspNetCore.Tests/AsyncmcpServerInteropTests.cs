using System.Collections.Concurrent;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// Our webhook and hybrid clients, with default settings, against wire-level fakes of asyncmcp's Python servers
/// (<c>wire/asyncmcp-webhook-server.mjs</c>, <c>wire/asyncmcp-hybrid-server.mjs</c>), which do what those servers do:
/// ignore <c>server/discover</c> or refuse it with an error whose id is <c>"server-error"</c>, check the protocol
/// header against revisions up to 2025-06-18, sign nothing, and never answer the POST of a webhook tool.
/// </summary>
public sealed class AsyncmcpServerInteropTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    /// <summary>
    /// No probe timeout to fall back on: a client that only got on after waiting out the probe would hang here, and the
    /// initialization timeout would fail the test.
    /// </summary>
    private static McpClientOptions NoWaiting() => new() { DiscoverProbeTimeout = System.Threading.Timeout.InfiniteTimeSpan, InitializationTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Our_webhook_client_with_default_settings_falls_back_to_initialize_on_the_refused_probe_and_works()
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-webhook-server.mjs");
        var transport = new WebhookClientTransport(new WebhookClientTransportOptions { ServerUrl = new Uri(fake.Url), Security = { AllowUnsigned = true } }, WebhookHarness.LoggerFactory);

        await using (var client = await McpClient.CreateAsync(transport, NoWaiting(), WebhookHarness.LoggerFactory, Timeout))
        {
            Assert.Equal("2025-06-18", client.NegotiatedProtocolVersion);
            Assert.Equal("asyncmcp-fake-webhook-server", client.ServerInfo?.Name);
            Assert.Contains(await client.ListToolsAsync(cancellationToken: Timeout), t => t.Name == "echo");
            Assert.Equal("Echo: hello", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hello" }, cancellationToken: Timeout)));

            var progress = new ConcurrentQueue<ProgressNotificationValue>();
            var counted = await client.CallToolAsync("countdown", new Dictionary<string, object?> { ["steps"] = 3 }, new SynchronousProgress(progress.Enqueue), cancellationToken: Timeout);
            Assert.Equal("Counted down from 3", Text(counted));
            await Eventually(() => progress.Count == 3);
        }

        // Disposing closed the session.
        await fake.WaitForAsync("request", r => (string?)r["httpMethod"] == "DELETE" && (int)r["status"]! == 200);

        var posts = fake.Records("request").Where(r => (string?)r["httpMethod"] == "POST").ToList();

        // The probe named 2026-07-28 in X-Protocol-Version and was refused with 400 (id "server-error"): the client
        // took that as the probe's answer and fell back at once.
        var probe = posts[0];
        Assert.Equal("server/discover", (string?)probe["rpcMethod"]);
        Assert.Equal("2026-07-28", (string?)probe["protocolVersion"]);
        Assert.Equal(400, (int)probe["status"]!);

        // initialize proposed its revision in its body only; everything after it named the agreed one.
        var initialize = posts[1];
        Assert.Equal("initialize", (string?)initialize["rpcMethod"]);
        Assert.Null((string?)initialize["protocolVersion"]);
        Assert.Equal(200, (int)initialize["status"]!);
        Assert.All(posts.Skip(2), r =>
        {
            Assert.Equal("2025-06-18", (string?)r["protocolVersion"]);
            Assert.Equal(200, (int)r["status"]!);
        });
        Assert.Empty(fake.Records("dropped"));
    }

    [Fact]
    public async Task Our_webhook_client_gets_an_error_with_its_requests_id_from_an_answer_with_id_server_error()
    {
        // asyncmcp answers an error it decides before reading the body with the id "server-error". The transport hands
        // it to the request the HTTP answer belongs to, under that request's id, so the caller gets it at once.
        await using var fake = await WireFake.StartAsync("asyncmcp-webhook-server.mjs");
        var transport = await new WebhookClientTransport(new WebhookClientTransportOptions { ServerUrl = new Uri(fake.Url), Security = { AllowUnsigned = true }, CloseSessionOnDispose = false }, WebhookHarness.LoggerFactory)
            .ConnectAsync(Timeout);
        await using var transportScope = transport;

        // A request naming a revision the server does not support in X-Protocol-Version.
        var probe = new JsonRpcRequest
        {
            Id = new RequestId(7),
            Method = RequestMethods.ServerDiscover,
            Params = System.Text.Json.Nodes.JsonNode.Parse("""{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"""),
        };
        await transport.SendMessageAsync(probe, Timeout);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var error = Assert.IsType<JsonRpcError>(await transport.MessageReader.ReadAsync(deadline.Token));
        Assert.Equal(new RequestId(7), error.Id);
        Assert.Equal((int)McpErrorCode.InvalidRequest, error.Error.Code);
        Assert.Contains("Unsupported protocol version: 2026-07-28", error.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Our_hybrid_client_completes_a_webhook_call_when_its_result_arrives_and_ends_the_POST_that_asyncmcp_never_answers(bool jsonResponse)
    {
        await using var fake = await WireFake.StartAsync("asyncmcp-hybrid-server.mjs", new Dictionary<string, string>
        {
            ["JSON_RESPONSE"] = jsonResponse ? "1" : "0",
            ["PING_MS"] = "100",
        });
        var transport = new HybridClientTransport(new HybridClientTransportOptions { Endpoint = new Uri(fake.Url), Security = { AllowUnsigned = true } }, WebhookHarness.LoggerFactory);
        await using var client = await McpClient.CreateAsync(transport, NoWaiting(), WebhookHarness.LoggerFactory, Timeout);
        Assert.Equal("2025-06-18", client.NegotiatedProtocolVersion);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var result = await client.CallToolAsync("slow_report", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 20 }, new SynchronousProgress(progress.Enqueue), cancellationToken: deadline.Token);

        Assert.Equal("report ready after 3 steps", Text(result));

        // The result came by webhook (unsigned, with mcp-session-id) and was taken; the POST that was still open for it
        // was ended by the client.
        var delivered = await fake.WaitForAsync("webhook", w => (int?)w["status"] == 200);
        await fake.WaitForAsync("abandoned", r => (string?)r["rpcMethod"] == "tools/call" && r["id"]!.ToJsonString() == delivered["id"]!.ToJsonString());
        if (!jsonResponse)
        {
            // SSE mode carries the call's progress on its POST (JSON mode drops it, as asyncmcp does).
            await Eventually(() => progress.Count == 3);
        }

        // The session goes on: a fast tool answers on its POST, and a second webhook call completes as the first did.
        Assert.Equal("Echo: still here", Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: deadline.Token)));
        Assert.Equal("report ready after 1 steps", Text(await client.CallToolAsync("slow_report", new Dictionary<string, object?> { ["steps"] = 1 }, cancellationToken: deadline.Token)));

        // The refused probe (no session header: 400 with id "server-error") made the fallback to initialize.
        var probe = fake.Records("request").First(r => (string?)r["httpMethod"] == "POST");
        Assert.Equal("server/discover", (string?)probe["rpcMethod"]);
        Assert.Equal(400, (int)probe["status"]!);
    }

    internal static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
