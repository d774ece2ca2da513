using System.Diagnostics;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Messaging;
using AsyncMcp.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>Stopping promptly, configuration checks and hosting. (Back-pressure and draining are in the conformance suite: <see cref="SqsConformanceTests"/>.)</summary>
public sealed class SqsLifecycleTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disposing_a_server_cancels_its_long_poll_instead_of_waiting_it_out()
    {
        var harness = await SqsHarness.StartAsync(fixture, o => o.WaitTime = TimeSpan.FromSeconds(20));
        // Let the loop get into its 20 s long poll: wait until the router's maintenance is ticking (the loop starts first).
        await Eventually(() => harness.Server.Dispatcher!.SessionCount == 0);

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
