using AsyncMcp.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.Diagnostics;

/// <summary>What every queue-fed server reports whatever its broker: its receive loops, and whether it is at capacity.</summary>
internal static class QueueServerHealth
{
    /// <summary>An unhealthy result when a receive loop ended or its last receive failed; otherwise <see langword="null"/>.</summary>
    public static HealthCheckResult? CheckLoops(McpQueueServer? server)
    {
        if (server is null)
        {
            return HealthCheckResult.Unhealthy("Not started.");
        }

        foreach (var loop in server.ReceiveLoops)
        {
            if (!loop.IsRunning)
            {
                return HealthCheckResult.Unhealthy($"The receive loop on {loop.Description} is not running.", loop.Completion.Exception?.GetBaseException());
            }

            if (loop.ConsecutiveFailures > 0)
            {
                var error = loop.LastError;
                return HealthCheckResult.Unhealthy($"Receiving from {loop.Description} failed {loop.ConsecutiveFailures} times in a row: {error?.Message}", error);
            }
        }

        return null;
    }

    /// <summary>Degraded while the requests in flight fill <c>MaxConcurrentRequests</c> (the server receives nothing more until one ends).</summary>
    public static HealthCheckResult? CheckCapacity(MessageDispatcher dispatcher) =>
        dispatcher.Limiter.Count >= dispatcher.Limiter.Limit
            ? HealthCheckResult.Degraded($"At capacity: {dispatcher.Limiter.Count} requests in flight of {dispatcher.Limiter.Limit} (MaxConcurrentRequests).")
            : null;

    /// <summary>The counts every report carries.</summary>
    public static string Counts(MessageDispatcher dispatcher) =>
        $"{dispatcher.SessionCount} sessions, {dispatcher.PendingRequestCount} requests in flight";
}
