using AsyncMcp.Diagnostics;
using AsyncMcp.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.AspNetCore.Webhooks.Server;

/// <summary>
/// The health of a server whose messages arrive as HTTP requests to an endpoint of the app: it is started and not
/// stopping, its endpoint is mounted, and it has room for more requests.
/// </summary>
internal sealed class EndpointServerHealthProbe(string name, Func<bool> running, Func<string?> mappedPattern, string mapCall, MessageDispatcher? dispatcher) : IServerHealthProbe
{
    public string Name => mappedPattern() is { } pattern ? $"{name} {pattern}" : name;

    public Task<HealthCheckResult> CheckAsync(AsyncMcpHealthCheckOptions options, CancellationToken cancellationToken)
    {
        if (!running())
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Not running (not started, or stopping)."));
        }

        if (mappedPattern() is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The endpoint is not mounted: call {mapCall}."));
        }

        if (dispatcher is null)
        {
            return Task.FromResult(HealthCheckResult.Healthy("Serving."));
        }

        if (QueueServerHealth.CheckCapacity(dispatcher) is { } full)
        {
            return Task.FromResult(full);
        }

        return Task.FromResult(HealthCheckResult.Healthy($"Serving; {QueueServerHealth.Counts(dispatcher)}."));
    }
}
