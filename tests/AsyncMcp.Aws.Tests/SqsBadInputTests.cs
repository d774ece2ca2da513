using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Limits of SQS itself get a clear error for the caller. (Bad bodies, unknown sessions, unsupported revisions and
/// missing reply addresses are in the conformance suite every transport runs: <see cref="SqsConformanceTests"/>.)
/// </summary>
public sealed class SqsBadInputTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task A_response_too_large_for_the_reply_queue_becomes_an_error_for_the_caller(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var smallQueue = await harness.CreateResponseQueueAsync(new() { ["MaximumMessageSize"] = "1024" });
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), smallQueue);

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("big", new Dictionary<string, object?> { ["length"] = 4000 }, cancellationToken: Timeout).AsTask());

        Assert.Equal(McpErrorCode.InternalError, ex.ErrorCode);
        Assert.Contains("1024 bytes", ex.Message, StringComparison.Ordinal);
        var small = await client.CallToolAsync("big", new Dictionary<string, object?> { ["length"] = 10 }, cancellationToken: Timeout);
        Assert.Equal("xxxxxxxxxx", Assert.IsType<TextContentBlock>(Assert.Single(small.Content)).Text);
    }

    [Fact]
    public async Task The_session_limit_gives_a_clear_error()
    {
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.MaxSessions = 1);
        var first = await harness.ConnectAsync(Protocols.November2025);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => harness.ConnectAsync(Protocols.November2025));

        Assert.Contains("maximum of 1 sessions", ex.ToString(), StringComparison.Ordinal);
        await first.PingAsync(cancellationToken: Timeout);
    }
}
