using System.Collections.Concurrent;
using System.Text.Json;
using AsyncMcp.AspNetCore.Hybrid;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// Our hybrid client against the hybrid server: fast tools on the stream, webhook tools by webhook, both revisions,
/// both response modes. (Every capability, cancellation, logging, sampling and elicitation, sessions and bad input are
/// in the conformance suite every transport runs: <see cref="HybridConformanceTests"/>.)
/// </summary>
public sealed class HybridEndToEndTests
{
    public static TheoryData<string, HybridResponseMode> Combinations => new()
    {
        { Protocols.November2025, HybridResponseMode.Sse },
        { Protocols.November2025, HybridResponseMode.Json },
        { Protocols.July2026, HybridResponseMode.Sse },
        { Protocols.July2026, HybridResponseMode.Json },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task A_fast_tool_answers_on_the_stream_and_a_webhook_tool_by_webhook_with_progress_in_order(string protocol, HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        var observed = new ObservingClientTransport(new Hybrid.Client.HybridClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory));
        var client = await harness.ConnectAsync(protocol, observed);
        var ct = TestContext.Current.CancellationToken;
        AssertNegotiated(client, protocol);

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: ct);
        Assert.Equal("Echo: hi", Text(echo));
        Assert.False(harness.Logged("'echo'"), "the fast tool must not be accepted for webhook delivery");

        var slow = await client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 5, ["delayMs"] = 50 },
            new SynchronousProgress(_ => { }),
            cancellationToken: ct);

        Assert.Equal("done after 5 steps", Text(slow));
        Assert.Null(slow.Meta?[HybridMeta.Accepted]);
        await Eventually(() => harness.Logged("Tool 'slow'") && harness.Logged("will be delivered by webhook"));
        await Eventually(() => harness.Logged("was delivered by webhook"));
        // IProgress.Report is fire-and-forget in the SDK: the last notice can still be on its way when the tool returns,
        // so it may come after the result. Every earlier one comes before it, in order.
        var before = observed.ProgressBefore("done after 5 steps")!;
        Assert.Equal([1, 2, 3, 4], before.Take(4));
        Assert.True(before.Count == 4 || before[4] == 5, string.Join(", ", before));
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Tools_list_says_which_tools_answer_by_webhook(string protocol)
    {
        await using var harness = await HybridHarness.StartAsync();
        var client = await harness.ConnectAsync(protocol);
        var tools = (await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name);

        Assert.Equal(HybridMeta.Webhook, tools["slow"].ProtocolTool.Meta?[HybridMeta.Delivery]?.GetValue<string>());
        Assert.Equal(HybridMeta.Webhook, tools["render"].ProtocolTool.Meta?[HybridMeta.Delivery]?.GetValue<string>());
        Assert.Null(tools["echo"].ProtocolTool.Meta?[HybridMeta.Delivery]);

        var rendered = await client.CallToolAsync("render", new Dictionary<string, object?> { ["title"] = "q3", ["steps"] = 3 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("rendered q3", Text(rendered));
        await Eventually(() => harness.Logged("Tool 'render'"));
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task A_client_without_a_webhook_gets_webhook_tools_answered_on_the_stream(string protocol, HybridResponseMode mode)
    {
        await using var harness = await HybridHarness.StartAsync(mode);
        var client = await harness.ConnectAsync(protocol, o => o.UseWebhook = false);
        AssertNegotiated(client, protocol);

        var result = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 2, ["delayMs"] = 10 }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("done after 2 steps", Text(result));
        Assert.False(harness.Logged("will be delivered by webhook"));
    }

    [Fact]
    public async Task Many_concurrent_webhook_calls_from_several_clients_each_get_their_own_result()
    {
        await using var harness = await HybridHarness.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => harness.ConnectAsync(i % 2 == 0 ? Protocols.November2025 : Protocols.July2026)));

        var calls = clients.SelectMany((client, c) => Enumerable.Range(0, 8).Select(async i =>
        {
            var result = await client.CallToolAsync("render", new Dictionary<string, object?> { ["title"] = $"c{c}-{i}", ["steps"] = 2 }, cancellationToken: ct);
            return (Expected: $"rendered c{c}-{i}", Actual: Text(result));
        }));

        foreach (var (expected, actual) in await Task.WhenAll(calls))
        {
            Assert.Equal(expected, actual);
        }
    }

    /// <summary>2026-07-28 is sessionless (no Mcp-Session-Id); 2025-11-25 has a session.</summary>
    internal static void AssertNegotiated(McpClient client, string protocol)
    {
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
        if (protocol == Protocols.July2026)
        {
            Assert.Null(client.SessionId);
        }
        else
        {
            Assert.NotNull(client.SessionId);
        }
    }

    internal static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
