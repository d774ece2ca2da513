using AsyncMcp.Diagnostics;
using OpenTelemetry.Metrics;

namespace Snippets;

internal static class OperationsSnippets
{
    public static void Health(WebApplicationBuilder builder, WebApplication app)
    {
        // snippet: operations-health
        builder.Services.AddHealthChecks().AddAsyncMcp(o => o.DeadLetterThreshold = 10);
        // ASP.NET Core:
        app.MapHealthChecks("/health");
        // any generic host: resolve HealthCheckService and call CheckHealthAsync()
        // end snippet
    }

    public static void Metrics(WebApplicationBuilder builder)
    {
        // snippet: operations-metrics
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(AsyncMcpTelemetry.MeterName));
        // end snippet
    }
}
