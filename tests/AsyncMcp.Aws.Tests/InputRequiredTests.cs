using AsyncMcp.Testing;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A server's questions to the client (sampling, elicitation), asked both ways: the tool awaiting the client
/// (<c>SampleAsync</c>/<c>ElicitAsync</c>) and an <c>input_required</c> result (<c>InputRequiredException</c>), on both
/// protocol revisions, over SQS and over SNS+SQS. On 2026-07-28 the awaiting form rides the SDK's input-required
/// rounds too: the server's session-less context keeps the suspended tool until the client calls again.
/// </summary>
public sealed class InputRequiredTests(EmulatorFixture fixture)
{
    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Both_forms_are_answered_over_SQS(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), clientOptions: InputRequiredClient.Options(Protocols.ClientSetting(protocol)));

        await InputRequiredClient.AssertAllAnsweredAsync(client, TestContext.Current.CancellationToken);
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Both_forms_are_answered_over_SNS_and_SQS(string protocol)
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), clientOptions: InputRequiredClient.Options(Protocols.ClientSetting(protocol)));

        await InputRequiredClient.AssertAllAnsweredAsync(client, TestContext.Current.CancellationToken);
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
    }
}
