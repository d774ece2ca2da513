using Amazon.SQS;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Aws.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// The AsyncMcp health check in a generic host running an SQS and an SNS+SQS server: healthy while they receive,
/// unhealthy while the broker is down (killed; then started again on the same port with its data), healthy again once
/// it is back; degraded while a dead-letter queue reaches the threshold; unhealthy once the host stops.
/// </summary>
public sealed class HealthCheckTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Queue_servers_report_the_broker_going_away_and_coming_back_and_their_dead_letter_queues()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("asyncmcp-fauxqs-").FullName;
        var emulator = await FauxqsEmulator.StartAsync(0, dataDirectory);
        var port = emulator.Port;
        IHost? host = null;
        try
        {
            using var sqs = emulator.CreateSqsClient();
            using var sns = new SnsQueryClient(new SnsQueryClientOptions { ServiceUrl = emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials });
            var provisioner = new SqsQueueProvisioner(sqs);
            var sqsQueue = await provisioner.EnsureQueueAsync("health-sqs", new SqsQueueSettings { MaxReceiveCount = 3 }, Timeout);
            var snsQueue = await provisioner.EnsureQueueAsync("health-sns", new SqsQueueSettings { MaxReceiveCount = 3 }, Timeout);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton<IAmazonSQS>(sqs);
            builder.Services.AddSingleton<ISnsClient>(sns);
            builder.Services.AddMcpServer()
                .WithSqsServerTransport(o => { o.RequestQueueUrl = sqsQueue.QueueUrl; o.WaitTime = TimeSpan.FromSeconds(1); })
                .WithSnsSqsServerTransport(o => { o.ServerQueueUrl = snsQueue.QueueUrl; o.WaitTime = TimeSpan.FromSeconds(1); });
            builder.Services.AddHealthChecks().AddAsyncMcp(o => { o.DeadLetterThreshold = 1; o.BrokerTimeout = TimeSpan.FromSeconds(2); });
            host = builder.Build();
            var health = host.Services.GetRequiredService<HealthCheckService>();
            Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(Timeout)).Status);

            await host.StartAsync(Timeout);
            var report = await WaitForAsync(health, HealthStatus.Healthy);
            var entry = report.Entries["asyncmcp"];
            Assert.Equal(2, entry.Data.Count);
            Assert.Contains(entry.Data.Keys, k => k == $"aws_sqs {sqsQueue.QueueUrl}");
            Assert.Contains(entry.Data.Keys, k => k == $"aws_sns {snsQueue.QueueUrl}");

            await emulator.DisposeAsync();
            report = await WaitForAsync(health, HealthStatus.Unhealthy);
            Assert.All(report.Entries["asyncmcp"].Data.Values, value => Assert.StartsWith("Unhealthy", (string)value, StringComparison.Ordinal));

            emulator = await FauxqsEmulator.StartAsync(port, dataDirectory);
            await WaitForAsync(health, HealthStatus.Healthy, TimeSpan.FromSeconds(90));

            // A message on a dead-letter queue crosses the threshold of 1; once it is gone, the server is healthy again.
            await sqs.SendMessageAsync(snsQueue.DeadLetterQueueUrl, "{}", Timeout);
            report = await WaitForAsync(health, HealthStatus.Degraded);
            Assert.Contains("dead-letter queue", report.Entries["asyncmcp"].Description, StringComparison.Ordinal);
            Assert.StartsWith("Healthy", (string)report.Entries["asyncmcp"].Data[$"aws_sqs {sqsQueue.QueueUrl}"], StringComparison.Ordinal);
            await sqs.PurgeQueueAsync(snsQueue.DeadLetterQueueUrl, Timeout);
            await WaitForAsync(health, HealthStatus.Healthy);

            await host.StopAsync(Timeout);
            Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(Timeout)).Status);
        }
        finally
        {
            host?.Dispose();
            await emulator.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_option_fails_host_start_with_its_name()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddHealthChecks().AddAsyncMcp(o => o.DeadLetterThreshold = 0);
        using var host = builder.Build();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Timeout));
        Assert.Contains("AsyncMcpHealthCheckOptions.DeadLetterThreshold must be at least 1", error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HealthReport> WaitForAsync(HealthCheckService health, HealthStatus status, TimeSpan? deadline = null)
    {
        HealthReport? last = null;
        try
        {
            await EventuallyAsync(async () => (last = await health.CheckHealthAsync(Timeout)).Status == status, deadline ?? TimeSpan.FromSeconds(60), $"health {status}");
        }
        catch (Exception ex) when (last is not null)
        {
            throw new Xunit.Sdk.XunitException($"{ex.Message} Last report: {last.Status}: {last.Entries["asyncmcp"].Description}");
        }

        return last!;
    }
}
