using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// The AsyncMcp health check for the webhook and hybrid servers, through ASP.NET Core's own <c>/health</c> endpoint on
/// real Kestrel: healthy while serving at a mounted endpoint, unhealthy when the endpoint was never mounted or the app stops.
/// </summary>
public sealed class EndpointHealthCheckTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    public static TheoryData<string> Transports => ["webhook", "hybrid"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_mounted_server_is_healthy_on_health_and_unhealthy_once_stopped(string transport)
    {
        await using var app = await StartAsync(transport, mount: true);
        using var http = new HttpClient { BaseAddress = new Uri(WebhookHarness.BoundAddress(app)) };
        using var response = await http.GetAsync("/health", Timeout);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(Timeout));

        var health = app.Services.GetRequiredService<HealthCheckService>();
        var entry = (await health.CheckHealthAsync(Timeout)).Entries["asyncmcp"];
        Assert.Contains(entry.Data.Keys, k => k.EndsWith(transport == "webhook" ? "/mcp/request" : "/mcp", StringComparison.Ordinal));

        await app.StopAsync(Timeout);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(Timeout)).Status);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_server_whose_endpoint_was_never_mounted_is_unhealthy_and_says_what_to_call(string transport)
    {
        await using var app = await StartAsync(transport, mount: false);
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Timeout);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(transport == "webhook" ? "MapMcpWebhook" : "MapMcpHybrid", report.Entries["asyncmcp"].Description, StringComparison.Ordinal);
    }

    private static Task<WebApplication> StartAsync(string transport, bool mount) =>
        WebhookHarness.StartAppAsync(
            app =>
            {
                if (mount)
                {
                    _ = transport == "webhook" ? app.MapMcpWebhook() : app.MapMcpHybrid();
                }

                app.MapHealthChecks("/health");
            },
            services =>
            {
                var secret = WebhookSecret.Generate();
                var mcp = services.AddMcpServer();
                _ = transport == "webhook"
                    ? mcp.WithWebhookServerTransport(o => o.Security.Secret = secret)
                    : mcp.WithHybridTransport(o => o.Security.Secret = secret);
                services.AddHealthChecks().AddAsyncMcp();
            });
}
