using System.Diagnostics;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Messaging;
using AsyncMcp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>Back-pressure, shutdown, draining, configuration checks and hosting.</summary>
public sealed class SqsLifecycleTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_stops_receiving_while_the_in_flight_limit_is_reached()
    {
        await using var harness = await SqsHarness.StartAsync(fixture, o => o.MaxConcurrentRequests = 2);
        var client = await harness.ConnectAsync(Protocols.November2025);
        var peer = harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        var calls = Enumerable.Range(0, 6).Select(_ => client.CallToolAsync("hold", cancellationToken: Timeout).AsTask()).ToArray();

        // Two run; the other four wait in the queue, unreceived.
        await SqsEndToEndTests.Eventually(() => harness.State.RunningHolds == 2);
        await SqsEndToEndTests.Eventually(() => peer.CountVisibleAsync(harness.RequestQueueUrl).GetAwaiter().GetResult() == 4);
        Assert.Equal(2, harness.Server.Dispatcher!.PendingRequestCount);

        harness.State.ReleaseHolds.SetResult();
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Equal("released", Assert.IsType<TextContentBlock>(Assert.Single(r.Content)).Text));
        Assert.Equal(2, harness.State.MaxConcurrentHolds);
    }

    [Fact]
    public async Task Disposing_a_server_cancels_its_long_poll_instead_of_waiting_it_out()
    {
        var harness = await SqsHarness.StartAsync(fixture, o => o.WaitTime = TimeSpan.FromSeconds(20));
        // Let the loop get into its 20 s long poll: wait until the router's maintenance is ticking (the loop starts first).
        await SqsEndToEndTests.Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);

        var stopwatch = Stopwatch.StartNew();
        await harness.DisposeAsync();
        stopwatch.Stop();

        // Far below the 20 s poll; docs/benchmarks.md records the measured figure.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Disposing_a_client_returns_promptly_while_its_long_poll_is_in_flight()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.November2025, configure: o => o.WaitTime = TimeSpan.FromSeconds(20));
        await client.PingAsync(cancellationToken: Timeout);

        var stopwatch = Stopwatch.StartNew();
        await client.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"dispose took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Disposing_a_server_drains_requests_in_flight()
    {
        var harness = await SqsHarness.StartAsync(fixture, o => o.ShutdownDrainTimeout = TimeSpan.FromSeconds(30));
        var client = await harness.ConnectAsync(Protocols.November2025);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 10, ["delayMs"] = 100 },
            new SqsEndToEndTests.SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: Timeout).AsTask();
        await started.Task.WaitAsync(Timeout);

        await harness.Server.DisposeAsync();

        var result = await call;
        Assert.Equal("done after 10 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await harness.DisposeAsync();
    }

    [Fact]
    public async Task A_request_queue_that_does_not_exist_fails_start_with_a_message_naming_the_option()
    {
        var options = new SqsServerTransportOptions { RequestQueueUrl = fixture.Emulator.ServiceUrl + "/000000000000/no-such-queue" };
        await using var server = new SqsServerTransport(fixture.Sqs, options, TestMcpServer.CreateOptions());

        var ex = await Assert.ThrowsAsync<AsyncMcpTransportException>(() => server.StartAsync(Timeout));

        Assert.Contains("RequestQueueUrl", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task A_client_whose_response_queue_does_not_exist_fails_instead_of_hanging()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => harness.ConnectAsync(Protocols.November2025, fixture.Emulator.ServiceUrl + "/000000000000/missing-responses"));

        Assert.Contains("missing-responses", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_whose_response_queue_disappears_fails_its_calls_instead_of_hanging()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var responseQueueUrl = await harness.CreateResponseQueueAsync();
        var client = await harness.ConnectAsync(Protocols.November2025, responseQueueUrl, o => o.WaitTime = TimeSpan.FromSeconds(1));

        await harness.Sqs.DeleteQueueAsync(responseQueueUrl, Timeout);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout).AsTask());
        Assert.IsNotType<OperationCanceledException>(ex);
    }

    [Fact]
    public async Task A_hosted_server_serves_tools_registered_with_AddMcpServer()
    {
        var requestQueueUrl = await fixture.CreateQueueAsync("hosted");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(fixture.Sqs);
        builder.Services.AddMcpServer().WithTools<HostedTools>().WithSqsServerTransport(o => o.RequestQueueUrl = requestQueueUrl);
        using var host = builder.Build();
        await host.StartAsync(Timeout);

        var responseQueueUrl = await fixture.CreateQueueAsync("hosted-resp");
        await using (var client = await McpClient.CreateAsync(
            new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }),
            cancellationToken: Timeout))
        {
            var result = await client.CallToolAsync("shout", new Dictionary<string, object?> { ["text"] = "quiet" }, cancellationToken: Timeout);
            Assert.Equal("QUIET", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        var stopwatch = Stopwatch.StartNew();
        await host.StopAsync(Timeout);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"host stop took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task A_hosted_server_with_bad_options_fails_to_start_naming_the_option()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(fixture.Sqs);
        builder.Services.AddMcpServer().WithTools<HostedTools>().WithSqsServerTransport(o =>
        {
            o.RequestQueueUrl = fixture.Emulator.ServiceUrl + "/000000000000/q";
            o.ReceiveBatchSize = 11;
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => host.StartAsync(Timeout));

        Assert.Contains("ReceiveBatchSize", ex.Message, StringComparison.Ordinal);
    }

    [ModelContextProtocol.Server.McpServerToolType]
    public sealed class HostedTools
    {
        [ModelContextProtocol.Server.McpServerTool(Name = "shout")]
        public static string Shout(string text) => text.ToUpperInvariant();
    }
}
