using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Testing;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A real McpServer and a real McpClient over signed webhooks, Kestrel on loopback on both sides: what the webhook
/// client does when its session ends, and signing. (Capabilities, sessions, back-pressure, shutdown and many clients are
/// in the conformance suite every transport runs: <see cref="WebhookConformanceTests"/>.)
/// </summary>
public sealed class WebhookEndToEndTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

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

    [Fact]
    public async Task Stopping_the_server_tells_a_webhook_client_its_session_closed_after_its_last_answer()
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.ShutdownDrainTimeout = TimeSpan.FromSeconds(30));
        var client = await harness.ConnectAsync(Protocols.November2025);
        var sessionId = client.SessionId!;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 5, ["delayMs"] = 100 },
            new SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: Timeout).AsTask();
        await started.Task.WaitAsync(DefaultDeadline, Timeout);

        await harness.StopAsync();

        // The answer first, then the notice (POSTed to the client's webhook, which takes only POSTs): the connection
        // ends with the server's reason rather than at its next call, and nothing failed to be delivered.
        Assert.Equal("done after 5 steps", Assert.IsType<TextContentBlock>(Assert.Single((await call.WaitAsync(DefaultDeadline, Timeout)).Content)).Text);
        var completion = await client.Completion.WaitAsync(DefaultDeadline, Timeout);
        var closed = Assert.IsType<AsyncMcp.Messaging.SessionNotFoundException>(completion.Exception);
        Assert.Contains($"The server closed session '{sessionId}': server shutting down", closed.Message, StringComparison.Ordinal);
        Assert.False(harness.Logged("could not be delivered"), string.Join(Environment.NewLine, harness.Logs.Entries.Select(e => e.Message)));
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
        await Eventually(() => clientLogs.Entries.Any(e => e.Message.Contains("refused (401): The message is not signed", StringComparison.Ordinal)));
        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("closed: delivery to its reply address failed", StringComparison.Ordinal) && e.Message.Contains("401", StringComparison.Ordinal)));
        Assert.Contains(harness.Logs.Entries, e => e.Message.Contains("the answer to request 1 could not be delivered", StringComparison.Ordinal));
        Assert.Equal(0, harness.Server.Dispatcher!.SessionCount);

        // So no answer ever reaches the client: its connect is still waiting when it gives up.
        Assert.False(connecting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
    }
}
