using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

public sealed class SqsConcurrencyTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task Twenty_clients_with_twenty_concurrent_calls_each_get_their_own_answers()
    {
        var timeout = TestContext.Current.CancellationToken;
        await using var harness = await SqsHarness.StartAsync(fixture);
        var shared = await harness.CreateResponseQueueAsync();

        // Half the clients share one response queue; protocols alternate so both revisions run side by side.
        var clients = new List<McpClient>();
        for (var c = 0; c < 20; c++)
        {
            var protocol = c % 2 == 0 ? Protocols.November2025 : null;
            clients.Add(await harness.ConnectAsync(protocol, c < 10 ? shared : null));
        }

        var calls = new List<Task<(string Expected, string Actual)>>();
        for (var c = 0; c < clients.Count; c++)
        {
            for (var i = 0; i < 20; i++)
            {
                var client = clients[c];
                var message = $"client {c} call {i}";
                calls.Add(Task.Run(async () =>
                {
                    var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: timeout);
                    return ($"Echo: {message}", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
                }, timeout));
            }
        }

        var results = await Task.WhenAll(calls);

        Assert.Equal(400, results.Length);
        Assert.All(results, r => Assert.Equal(r.Expected, r.Actual));
        Assert.Equal(20, harness.Server.Router.SessionCount);
    }
}
