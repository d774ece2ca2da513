using System.Collections.Concurrent;
using System.Text.Json;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>A real McpServer and McpClient over SNS+SQS on the emulator: both revisions, raw and enveloped delivery.</summary>
public sealed class SnsSqsEndToEndTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    public static TheoryData<string, bool, bool> Combinations => new()
    {
        { Protocols.November2025, true, true },
        { Protocols.November2025, false, false },
        { Protocols.July2026, true, false },
        { Protocols.July2026, false, true },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task Carries_every_capability(string protocol, bool rawToServer, bool rawToClient)
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, rawToServer);
        var logs = new ConcurrentQueue<string>();
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.LoggingMessageNotification, (n, _) =>
                    {
                        logs.Enqueue(n.Params?["data"]?.GetValue<string>() ?? string.Empty);
                        return ValueTask.CompletedTask;
                    }),
                ],
            },
        };
        ObservingClientTransport? observed = null;
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), rawDelivery: rawToClient, clientOptions: options, wrapTransport: t => observed = new ObservingClientTransport(t));
        Assert.Equal(protocol, client.NegotiatedProtocolVersion);

        Assert.Contains(await client.ListToolsAsync(cancellationToken: Timeout), t => t.Name == "echo");
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over sns" }, cancellationToken: Timeout);
        Assert.Equal("Echo: over sns", Text(echo));

        var slow = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 3, ["delayMs"] = 20 }, new SqsEndToEndTests.SynchronousProgress(_ => { }), cancellationToken: Timeout);
        Assert.Equal("done after 3 steps", Text(slow));
        // Counted where the transport hands messages to the SDK, whose IProgress handler can lose the race with the result.
        await SqsEndToEndTests.Eventually(() => SqsEndToEndTests.ProgressNotices(observed!).Count == 3);
        Assert.Equal([1, 2, 3], SqsEndToEndTests.ProgressNotices(observed!).Select(p => (int)p.Progress).Order());

        Assert.Equal("logged", Text(await client.CallToolAsync("log", new Dictionary<string, object?> { ["message"] = "via topic" }, cancellationToken: Timeout)));
        await SqsEndToEndTests.Eventually(() => logs.Contains("via topic"));

        var resource = await client.ReadResourceAsync("test://items/3", cancellationToken: Timeout);
        Assert.Equal("item 3", Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text);
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Lin" }, cancellationToken: Timeout);
        Assert.Contains("Lin", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 600, ["delayMs"] = 100 }, new SqsEndToEndTests.SynchronousProgress(_ => started.TrySetResult()), cancellationToken: cts.Token).AsTask();
        await started.Task.WaitAsync(Timeout);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await SqsEndToEndTests.Eventually(() => harness.State.SlowCancelled == 1);
        await SqsEndToEndTests.Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);
    }

    [Fact]
    public async Task Carries_sampling_and_elicitation_from_server_to_client()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, rawDelivery: false);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult { Model = "m", Content = [new TextContentBlock { Text = "sampled" }] }),
                ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
            },
        };
        var client = await harness.ConnectAsync(Protocols.November2025, rawDelivery: false, clientOptions: options);

        Assert.Equal("model m said: sampled", Text(await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "x" }, cancellationToken: Timeout)));
        Assert.Equal("hello Ada", Text(await client.CallToolAsync("elicit", cancellationToken: Timeout)));
    }

    [Fact]
    public async Task Twenty_clients_half_sharing_a_reply_topic_each_get_their_own_answers()
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture);
        var shared = await harness.CreateClientEndpointAsync();
        var clients = new List<McpClient>();
        for (var c = 0; c < 20; c++)
        {
            clients.Add(await harness.ConnectAsync(c % 2 == 0 ? Protocols.November2025 : null, c < 10 ? shared : null));
        }

        var calls = clients.SelectMany((client, c) => Enumerable.Range(0, 5).Select(async i =>
        {
            var message = $"client {c} call {i}";
            return (Expected: "Echo: " + message, Actual: Text(await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Timeout)));
        })).ToList();
        var results = await Task.WhenAll(calls);

        Assert.Equal(100, results.Length);
        Assert.All(results, r => Assert.Equal(r.Expected, r.Actual));
    }

    internal static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
