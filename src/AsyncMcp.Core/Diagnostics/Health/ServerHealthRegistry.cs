using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.Diagnostics;

/// <summary>One running server transport, as the health check sees it.</summary>
internal interface IServerHealthProbe
{
    /// <summary>Names the transport and its endpoint in the report, such as <c>sqs https://…/requests</c>.</summary>
    string Name { get; }

    /// <summary>Checks the transport: its receive loop, its queue or endpoint, its dead-letter queue.</summary>
    Task<HealthCheckResult> CheckAsync(AsyncMcpHealthCheckOptions options, CancellationToken cancellationToken);
}

/// <summary>
/// The server transports running in a host: each hosted transport adds itself when it has started and removes itself
/// when it stops, so a host with none running (not yet started, or stopping) reports unhealthy.
/// </summary>
internal sealed class ServerHealthRegistry
{
    private readonly Lock _gate = new();
    private readonly List<IServerHealthProbe> _probes = [];

    public void Add(IServerHealthProbe probe)
    {
        lock (_gate)
        {
            _probes.Add(probe);
        }
    }

    public void Remove(IServerHealthProbe probe)
    {
        lock (_gate)
        {
            _probes.Remove(probe);
        }
    }

    public IReadOnlyList<IServerHealthProbe> Snapshot()
    {
        lock (_gate)
        {
            return [.. _probes];
        }
    }
}
