using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Testing;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A real McpServer and a real McpClient over signed webhooks, Kestrel on loopback on both sides, both protocol revisions.</summary>
public sealed class WebhookEndToEndTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Lists_and_calls_tools(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol));

        Assert.Equal(protocol, client.NegotiatedProtocolVersion);
        var tools = await client.ListToolsAsync(cancellationToken: Timeout);
        Assert.Contains(tools, t => t.Name == "echo");

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
        await using var harness = await WebhookHarness.StartAsync();
        var observed = new ObservingClientTransport(new WebhookClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory));
        var client = harness.Own(await McpClient.CreateAsync(observed, new McpClientOptions { ProtocolVersion = Protocols.ClientSetting(protocol) }, WebhookHarness.LoggerFactory, Timeout));

        var result = await client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 4, ["delayMs"] = 20 },
            new SynchronousProgress(_ => { }),
            cancellationToken: Timeout);

        Assert.Equal("done after 4 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);

        // Deliveries to one client go one at a time, in order, and a result waits for the progress sent before it.
        Assert.Equal([1, 2, 3, 4], observed.ProgressBefore("done after 4 steps")!);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Cancels_a_running_tool(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
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

        await Protocols.Eventually(() => harness.State.SlowCancelled == 1);
        Assert.Equal(0, harness.State.SlowCompleted);
        await Protocols.Eventually(() => harness.Server.Dispatcher!.PendingRequestCount == 0);

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after" }, cancellationToken: Timeout);
        Assert.Equal("Echo: after", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Delivers_log_notifications(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
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
        await Protocols.Eventually(() => logs.Contains("disk almost full"));
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Serves_resources_prompts_and_completions(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol));

        var item = await client.ReadResourceAsync("test://items/7", cancellationToken: Timeout);
        Assert.Equal("item 7", Assert.IsType<TextResourceContents>(Assert.Single(item.Contents)).Text);
        var prompt = await client.GetPromptAsync("greeting", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Timeout);
        Assert.Contains("Ada", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text, StringComparison.Ordinal);
        var completion = await client.CompleteAsync(new PromptReference { Name = "greeting" }, "name", "Al", cancellationToken: Timeout);
        Assert.Equal(["Alice", "Albert"], completion.Completion.Values);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Carries_sampling_and_elicitation_requests_from_server_to_client(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync();
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

    [Fact]
    public async Task Closing_the_client_deletes_its_session()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.November2025);
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout);
        Assert.Equal(1, harness.Server.Dispatcher!.SessionCount);

        await client.DisposeAsync();

        await Protocols.Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("closed by the client (DELETE)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_idle_session_expires_and_its_client_hears_404()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.SessionIdleTimeout = TimeSpan.FromMilliseconds(300));
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var sessionId = await peer.OpenSessionAsync();

        await Protocols.Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);

        var call = new System.Text.Json.Nodes.JsonObject { ["jsonrpc"] = "2.0", ["id"] = 2, ["method"] = "tools/list" };
        Assert.Equal(404, (await peer.PostAsync(call, sessionId)).Status);
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains($"Session {sessionId} closed: idle timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_whose_session_the_server_closed_closes_with_the_reason()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var client = await harness.ConnectAsync(Protocols.November2025);
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout);
        var sessionId = client.SessionId!;

        // The server ends the session on its own (as after idle expiry, or a webhook that stayed down).
        Assert.True(await harness.Server.Dispatcher!.CloseSessionAsync(sessionId, "closed by the test"));

        // The next call hears 404 session_not_found: the connection closes, with that reason, instead of failing call by call.
        var closed = await Assert.ThrowsAsync<ClientTransportClosedException>(
            () => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "y" }, cancellationToken: Timeout).AsTask());
        var details = Assert.IsType<AsyncMcp.Client.AsyncMcpClientCompletionDetails>(closed.Details);
        Assert.Equal(sessionId, details.SessionId);
        var notFound = Assert.IsType<AsyncMcp.Messaging.SessionNotFoundException>(details.Exception);
        Assert.Contains("unknown or has expired", notFound.Message, StringComparison.Ordinal);

        var completion = await client.Completion.WaitAsync(Timeout);
        Assert.Same(notFound, completion.Exception);
        var later = await Assert.ThrowsAsync<ClientTransportClosedException>(
            () => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "z" }, cancellationToken: Timeout).AsTask());
        Assert.Same(notFound, later.Details.Exception);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Works_unsigned_when_both_sides_allow_it(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.Security = new() { AllowUnsigned = true });
        var client = await harness.ConnectAsync(Protocols.ClientSetting(protocol), o => o.Security = new() { AllowUnsigned = true });

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "plain" }, cancellationToken: Timeout);
        Assert.Equal("Echo: plain", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Fact]
    public async Task A_signed_client_refuses_unsigned_deliveries()
    {
        // The server does not sign; the client requires signatures.
        await using var harness = await WebhookHarness.StartAsync(o => o.Security = new() { AllowUnsigned = true });
        var clientLogs = new CollectingLoggerProvider(Microsoft.Extensions.Logging.LogLevel.Warning);
        using var clientLoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(clientLogs));
        var transport = new WebhookClientTransport(harness.ClientOptions(o => o.Security = new() { Secret = Webhooks.Signing.WebhookSecret.Generate() }), clientLoggerFactory);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        var connecting = McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = Protocols.November2025 }, cancellationToken: cts.Token);

        // The client's listener refuses the unsigned answer to initialize; for the server that 401 is final, and it
        // closes the session rather than keep it half-alive.
        await Protocols.Eventually(() => clientLogs.Entries.Any(e => e.Message.Contains("refused (401): The message is not signed", StringComparison.Ordinal)));
        await Protocols.Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("closed: delivery to its reply address failed", StringComparison.Ordinal) && e.Message.Contains("401", StringComparison.Ordinal)));
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("the answer to request 1 could not be delivered", StringComparison.Ordinal));
        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);

        // So no answer ever reaches the client: its connect is still waiting when it gives up.
        Assert.False(connecting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
    }

    [Fact]
    public async Task Serves_many_clients_at_once()
    {
        await using var harness = await WebhookHarness.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => harness.ConnectAsync(Protocols.November2025)));

        var calls = clients.SelectMany((client, c) => Enumerable.Range(0, 10).Select(async i =>
        {
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"{c}-{i}" }, cancellationToken: Timeout);
            return (Expected: $"Echo: {c}-{i}", Actual: Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }));

        foreach (var (expected, actual) in await Task.WhenAll(calls))
        {
            Assert.Equal(expected, actual);
        }
    }
}
