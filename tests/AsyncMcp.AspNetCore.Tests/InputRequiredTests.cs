using System.Text.Json;
using AsyncMcp.AspNetCore.Hybrid;
using AsyncMcp.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A server's questions to the client (sampling, elicitation), asked both ways: the tool awaiting the client
/// (<c>SampleAsync</c>/<c>ElicitAsync</c>) and an <c>input_required</c> result (<c>InputRequiredException</c>), on both
/// protocol revisions, over signed webhooks and over the hybrid transport (webhook tools and ordinary ones). What works
/// where is what docs/transports/hybrid.md says.
/// </summary>
public sealed class InputRequiredTests
{
    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Both_forms_are_answered_over_webhooks(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), clientOptions: InputRequiredClient.Options(Protocols.ClientSetting(protocol)));

        await InputRequiredClient.AssertAllAnsweredAsync(client, TestContext.Current.CancellationToken);
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Both_forms_are_answered_by_hybrid_webhook_tools_and_ordinary_tools_as_documented(string protocol)
    {
        await using var harness = await HybridHarness.StartAsync();
        var client = await harness.ConnectAsync(protocol, clientOptions: InputRequiredClient.Options(Protocols.ClientSetting(protocol)));
        var ct = TestContext.Current.CancellationToken;
        using var onTheStream = JsonDocument.Parse($$"""{"{{HybridMeta.Delivery}}":"{{HybridMeta.Stream}}"}""");

        foreach (var (tool, arguments, expected) in InputRequiredClient.Asks)
        {
            // As a webhook tool (the four are named in the options), then as an ordinary one (its result asked on the stream).
            var byWebhook = await InputRequiredClient.CallAsync(client, tool, arguments, cancellationToken: ct);
            var onStream = await InputRequiredClient.CallAsync(client, tool, arguments, onTheStream, ct);
            if (protocol == Protocols.July2026 && !tool.EndsWith("_explicit", StringComparison.Ordinal))
            {
                // Revision 2026-07-28 has no session on Streamable HTTP, so the server cannot send the client a request
                // (the SDK's stateless endpoint), and a tool that awaits the client fails; the explicit form works.
                Assert.StartsWith("(error) ", byWebhook, StringComparison.Ordinal);
                Assert.Contains("sessionless client", byWebhook, StringComparison.Ordinal);
                Assert.StartsWith("(error) ", onStream, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(expected, byWebhook);
                Assert.Equal(expected, onStream);
            }
        }

        await Eventually(() => harness.Logged("Tool 'sample_explicit'") && harness.Logged("Tool 'elicit_explicit'"));
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
    }
}
