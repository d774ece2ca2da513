using System.Collections.Concurrent;
using System.Text.Json;
using AsyncMcp.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>A real McpServer and a real McpClient over SQS on the emulator, for both protocol revisions.</summary>
public sealed class SqsEndToEndTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Lists_and_calls_tools(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol));

        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync(cancellationToken: Timeout);
        Assert.Contains(tools, t => t.Name == "echo");
        Assert.Contains(tools, t => t.Name == "slow");

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Timeout);
        Assert.Equal("Echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);

        var sum = await client.CallToolAsync("add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }, cancellationToken: Timeout);
        Assert.Equal("42", Assert.IsType<TextContentBlock>(Assert.Single(sum.Content)).Text);

        var failed = await client.CallToolAsync("fail", cancellationToken: Timeout);
        Assert.True(failed.IsError);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Reports_progress_before_the_result(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        ObservingClientTransport? observed = null;
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), wrapTransport: t => observed = new ObservingClientTransport(t));

        var result = await client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 4, ["delayMs"] = 50 },
            new SynchronousProgress(_ => { }),
            cancellationToken: Timeout);

        Assert.Equal("done after 4 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        // Checked where the transport hands messages to the SDK: the SDK runs each incoming message on its own work
        // item, so an IProgress handler can lose the race with the result and be unregistered before it runs.
        // IProgress.Report in a tool is fire-and-forget, so the last notice may trail the result: wait for it.
        await Eventually(() => ProgressNotices(observed!).Count == 4);
        Assert.Equal([1, 2, 3, 4], ProgressNotices(observed!).Select(p => (int)p.Progress).Order());
        Assert.All(ProgressNotices(observed!), p => Assert.Equal(4, p.Total));
        Assert.Equal([1, 2, 3], observed!.ProgressBefore("done after 4 steps")!.Take(3).Select(p => (int)p));
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Cancels_a_running_tool(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var firstProgress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 600, ["delayMs"] = 100 },
            new SynchronousProgress(_ => firstProgress.TrySetResult()),
            cancellationToken: cts.Token).AsTask();

        await firstProgress.Task.WaitAsync(Timeout);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        // The server hears notifications/cancelled and stops the tool.
        await Eventually(() => harness.State.SlowCancelled == 1);
        Assert.Equal(0, harness.State.SlowCompleted);

        // The SDK sends no answer to a cancelled request; its message must not stay in flight (nor run again elsewhere).
        await Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);

        // The session keeps working.
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after" }, cancellationToken: Timeout);
        Assert.Equal("Echo: after", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Delivers_log_notifications(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var logs = new ConcurrentQueue<string>();
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.LoggingMessageNotification, (notification, _) =>
                    {
                        logs.Enqueue(notification.Params?["data"]?.GetValue<string>() ?? string.Empty);
                        return ValueTask.CompletedTask;
                    }),
                ],
            },
        };
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), clientOptions: options);

        var result = await client.CallToolAsync("log", new Dictionary<string, object?> { ["message"] = "disk almost full" }, cancellationToken: Timeout);

        Assert.Equal("logged", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await Eventually(() => logs.Contains("disk almost full"));
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Serves_resources_prompts_and_completions(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol));

        var resources = await client.ListResourcesAsync(cancellationToken: Timeout);
        Assert.Contains(resources, r => r.Uri == "test://static");
        var templates = await client.ListResourceTemplatesAsync(cancellationToken: Timeout);
        Assert.Contains(templates, t => t.UriTemplate == "test://items/{id}");

        var staticText = await client.ReadResourceAsync("test://static", cancellationToken: Timeout);
        Assert.Equal("static resource text", Assert.IsType<TextResourceContents>(Assert.Single(staticText.Contents)).Text);
        var item = await client.ReadResourceAsync("test://items/7", cancellationToken: Timeout);
        Assert.Equal("item 7", Assert.IsType<TextResourceContents>(Assert.Single(item.Contents)).Text);

        var prompts = await client.ListPromptsAsync(cancellationToken: Timeout);
        Assert.Contains(prompts, p => p.Name == "greeting");
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Timeout);
        Assert.Contains("Ada", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);

        var completion = await client.CompleteAsync(new PromptReference { Name = "greeting" }, "name", "Al", cancellationToken: Timeout);
        Assert.Equal(["Alice", "Albert"], completion.Completion.Values);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Carries_sampling_and_elicitation_requests_from_server_to_client(string protocol)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var options = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "test-model",
                    Content = [new TextContentBlock { Text = "echo of " + ((TextContentBlock)request!.Messages[0].Content[0]).Text }],
                }),
                ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
                {
                    Action = "accept",
                    Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Grace") },
                }),
            },
        };
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), clientOptions: options);

        var sampled = await client.CallToolAsync("sample", new Dictionary<string, object?> { ["prompt"] = "ping" }, cancellationToken: Timeout);
        Assert.Equal("model test-model said: echo of ping", Assert.IsType<TextContentBlock>(Assert.Single(sampled.Content)).Text);

        var elicited = await client.CallToolAsync("elicit", cancellationToken: Timeout);
        Assert.Equal("hello Grace", Assert.IsType<TextContentBlock>(Assert.Single(elicited.Content)).Text);
    }

    /// <summary>The progress notices that came out of the transport, in order.</summary>
    internal static List<ProgressNotificationValue> ProgressNotices(ObservingClientTransport observed) =>
        observed.Received
            .OfType<JsonRpcNotification>()
            .Where(n => n.Method == NotificationMethods.ProgressNotification)
            .Select(n => JsonSerializer.Deserialize<ProgressNotificationParams>(n.Params, McpJsonUtilities.DefaultOptions)!.Progress)
            .ToList();

    internal static async Task Eventually(Func<bool> condition, int timeoutSeconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (!condition())
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail("The condition did not become true in time.");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    internal sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
