using AsyncMcp.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>The health of the hybrid transport: its webhook delivery is not stopping and its endpoint is mounted.</summary>
internal sealed class HybridHealthProbe(HybridDelivery delivery, HybridEndpointFilter endpoint, HybridSessionRegistry sessions) : IServerHealthProbe
{
    public string Name => endpoint.MappedPattern is { } pattern ? $"{HybridDelivery.MessagingSystem} {pattern}" : HybridDelivery.MessagingSystem;

    public Task<HealthCheckResult> CheckAsync(AsyncMcpHealthCheckOptions options, CancellationToken cancellationToken) =>
        Task.FromResult(
            delivery.Stopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Stopping.")
            : endpoint.MappedPattern is null ? HealthCheckResult.Unhealthy("The endpoint is not mounted: call app.MapMcpHybrid(...).")
            : HealthCheckResult.Healthy($"Serving; {sessions.Count} sessions."));
}
