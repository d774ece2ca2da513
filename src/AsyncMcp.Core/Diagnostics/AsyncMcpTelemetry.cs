using System.Diagnostics;
using System.Reflection;

namespace AsyncMcp.Diagnostics;

/// <summary>
/// Tracing for AsyncMcp transports, following the OpenTelemetry semantic conventions for messaging: a
/// <c>send</c> span (kind Producer) for every message handed to a broker and a <c>process</c> span (kind Consumer)
/// for every message received. Subscribe with <c>AddSource(AsyncMcpTelemetry.ActivitySourceName)</c>; the MCP
/// SDK's own spans (one per JSON-RPC operation) nest inside. Metrics are on the <see cref="System.Diagnostics.Metrics.Meter"/>
/// named <see cref="MeterName"/> (<c>AddMeter(AsyncMcpTelemetry.MeterName)</c>).
/// </summary>
public static class AsyncMcpTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/>.</summary>
    public const string ActivitySourceName = "AsyncMcp";

    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> every AsyncMcp metric is on.</summary>
    public const string MeterName = "AsyncMcp";

    internal static readonly ActivitySource Source = new(
        ActivitySourceName,
        typeof(AsyncMcpTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>Starts a span for sending one message, or returns <see langword="null"/> when nobody listens.</summary>
    internal static Activity? StartSend(string system, string destination, string? method, string? sessionId)
    {
        var activity = Source.StartActivity($"send {ShortName(destination)}", ActivityKind.Producer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "send");
            activity.SetTag("messaging.destination.name", destination);
            Describe(activity, method, sessionId);
        }

        return activity;
    }

    /// <summary>Starts a span for processing one received message, or returns <see langword="null"/> when nobody listens.</summary>
    internal static Activity? StartProcess(string system, string source, string messageId, int receiveCount)
    {
        var activity = Source.StartActivity($"process {ShortName(source)}", ActivityKind.Consumer);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", system);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", source);
            activity.SetTag("messaging.message.id", messageId);
            if (receiveCount > 1)
            {
                activity.SetTag("messaging.message.delivery_count", receiveCount);
            }
        }

        return activity;
    }

    /// <summary>Adds what the message is, once it has been read.</summary>
    internal static void Describe(Activity? activity, string? method, string? sessionId)
    {
        if (activity is null)
        {
            return;
        }

        if (method is not null)
        {
            activity.SetTag("mcp.method.name", method);
        }

        if (sessionId is not null)
        {
            activity.SetTag("mcp.session.id", sessionId);
        }
    }

    /// <summary>Records a failure on a span, as the OpenTelemetry conventions describe.</summary>
    internal static void Fail(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", exception.GetType().FullName);
    }

    /// <summary>The last path or ARN segment (a queue or topic name), to keep span names short and low in cardinality.</summary>
    private static string ShortName(string destination)
    {
        var cut = Math.Max(destination.LastIndexOf('/'), destination.LastIndexOf(':'));
        return cut >= 0 && cut < destination.Length - 1 ? destination[(cut + 1)..] : destination;
    }
}
