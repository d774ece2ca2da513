using AsyncMcp.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the AsyncMcp health check to <c>services.AddHealthChecks()</c>.</summary>
public static class AsyncMcpHealthChecksBuilderExtensions
{
    /// <summary>
    /// Checks every AsyncMcp server transport the host runs (SQS, SNS+SQS, webhook, hybrid): a queue server's receive
    /// loops are running and their last receive succeeded, its queue answers, and (with
    /// <see cref="AsyncMcpHealthCheckOptions.DeadLetterThreshold"/>) its dead-letter queue is below the threshold; a webhook
    /// or hybrid server is started and not stopping. A server at its <c>MaxConcurrentRequests</c> reports Degraded.
    /// Map it with <c>app.MapHealthChecks("/health")</c>, or read it from <c>HealthCheckService</c> in any host.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Sets the check's options.</param>
    /// <param name="name">The check's name in the report.</param>
    /// <param name="failureStatus">What an unhealthy transport reports; <see cref="HealthStatus.Unhealthy"/> when <see langword="null"/>.</param>
    /// <param name="tags">Tags to filter checks by (for readiness and liveness endpoints).</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddAsyncMcp(
        this IHealthChecksBuilder builder,
        Action<AsyncMcpHealthCheckOptions>? configure = null,
        string name = "asyncmcp",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<ServerHealthRegistry>();
        var options = builder.Services.AddOptions<AsyncMcpHealthCheckOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // A bad option fails host start with a message that names it, not each check later.
        options.Validate(o =>
        {
            o.Validate();
            return true;
        }).ValidateOnStart();

        return builder.AddCheck<AsyncMcpHealthCheck>(name, failureStatus, tags ?? []);
    }
}
