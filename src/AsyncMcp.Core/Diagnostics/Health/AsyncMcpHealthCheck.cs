using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AsyncMcp.Diagnostics;

/// <summary>
/// Reports every AsyncMcp server transport running in the host: the worst status of them all, each one's own status and
/// description in the data. Unhealthy when none runs.
/// </summary>
internal sealed class AsyncMcpHealthCheck(ServerHealthRegistry registry, IOptionsMonitor<AsyncMcpHealthCheckOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Get(context.Registration.Name);
        var probes = registry.Snapshot();
        if (probes.Count == 0)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "No AsyncMcp server transport is running (not yet started, or stopping).");
        }

        var results = await Task.WhenAll(probes.Select(probe => CheckOneAsync(probe, settings, cancellationToken))).ConfigureAwait(false);
        var worst = results.Min(r => r.Result.Status);
        var data = results.ToDictionary(r => r.Name, r => (object)$"{r.Result.Status}: {r.Result.Description}", StringComparer.Ordinal);
        var description = string.Join("; ", results.Where(r => r.Result.Status == worst).Select(r => $"{r.Name}: {r.Result.Description}"));
        var exception = results.FirstOrDefault(r => r.Result.Status == worst).Result.Exception;
        return new HealthCheckResult(worst == HealthStatus.Unhealthy ? context.Registration.FailureStatus : worst, description, exception, data);
    }

    private static async Task<(string Name, HealthCheckResult Result)> CheckOneAsync(IServerHealthProbe probe, AsyncMcpHealthCheckOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            return (probe.Name, await probe.CheckAsync(settings, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (probe.Name, HealthCheckResult.Unhealthy($"The check failed: {ex.Message}", ex));
        }
    }
}
