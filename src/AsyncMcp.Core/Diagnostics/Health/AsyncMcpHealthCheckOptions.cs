using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.Diagnostics;

/// <summary>What the AsyncMcp health check looks at, beyond whether each server transport is running.</summary>
public sealed class AsyncMcpHealthCheckOptions
{
    /// <summary>
    /// When set, a queue server whose dead-letter queue holds at least this many messages reports
    /// <see cref="DeadLetterStatus"/>. Unset (the default), the dead-letter queue is not looked at.
    /// </summary>
    public int? DeadLetterThreshold { get; set; }

    /// <summary>What a dead-letter queue at or above <see cref="DeadLetterThreshold"/> reports; <see cref="HealthStatus.Degraded"/> by default.</summary>
    public HealthStatus DeadLetterStatus { get; set; } = HealthStatus.Degraded;

    /// <summary>How long the broker may take to answer the check's calls (a queue's attributes); 5 seconds by default.</summary>
    public TimeSpan BrokerTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws if an option is out of range; the message names it.</summary>
    internal void Validate()
    {
        if (DeadLetterThreshold is < 1)
        {
            throw new ArgumentException($"{nameof(AsyncMcpHealthCheckOptions)}.{nameof(DeadLetterThreshold)} must be at least 1 (was {DeadLetterThreshold}); leave it unset not to look at the dead-letter queue.", nameof(DeadLetterThreshold));
        }

        if (BrokerTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(AsyncMcpHealthCheckOptions)}.{nameof(BrokerTimeout)} must be positive (was {BrokerTimeout}).", nameof(BrokerTimeout));
        }
    }
}
