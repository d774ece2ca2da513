using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Diagnostics;

/// <summary>
/// The instruments of the <c>AsyncMcp</c> meter. Names follow the OpenTelemetry messaging conventions where they define
/// the quantity (<c>messaging.client.consumed.messages</c>) and use the <c>asyncmcp.</c> prefix otherwise; attributes use
/// the conventions' names (<c>messaging.system</c>, <c>messaging.destination.name</c>, <c>mcp.method.name</c>,
/// <c>error.type</c>). The MCP SDK's own <c>mcp.server.operation.duration</c> (meter <c>Experimental.ModelContextProtocol</c>)
/// measures the handler; <c>asyncmcp.server.request.duration</c> measures from receipt to the answer reaching the broker.
/// </summary>
internal static class AsyncMcpMetrics
{
    internal static readonly Meter Meter = new(
        AsyncMcpTelemetry.MeterName,
        typeof(AsyncMcpMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    // The conventions' boundaries for operation durations, stretched for long-running tools.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 300];
    private static readonly double[] s_ageBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    internal static readonly Counter<long> ConsumedMessages = Meter.CreateCounter<long>(
        "messaging.client.consumed.messages", "{message}", "Messages received by a server transport (every kind: requests, notifications, answers of the client).");

    internal static readonly Counter<long> RequestsReceived = Meter.CreateCounter<long>(
        "asyncmcp.server.requests.received", "{request}", "Requests taken into a session to be run (copies of a running request and requests answered again are not counted).");

    internal static readonly UpDownCounter<long> ActiveRequests = Meter.CreateUpDownCounter<long>(
        "asyncmcp.server.active_requests", "{request}", "Requests received and not yet settled (the count back-pressure limits with MaxConcurrentRequests).");

    internal static readonly Counter<long> RequestsCompleted = Meter.CreateCounter<long>(
        "asyncmcp.server.requests.completed", "{request}", "Requests answered with a result that reached the broker.");

    internal static readonly Counter<long> RequestsFailed = Meter.CreateCounter<long>(
        "asyncmcp.server.requests.failed", "{request}", "Requests answered with a JSON-RPC error or a tool error, cancelled, refused as bad input, or whose answer could not be sent; error.type says which.");

    internal static readonly Counter<long> RequestsRedelivered = Meter.CreateCounter<long>(
        "asyncmcp.server.requests.redelivered", "{request}", "Requests received with a receive count above 1 (delivered again after a lease ended).");

    internal static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>(
        "asyncmcp.server.messages.dead_lettered", "{message}", "Messages nobody can be told about, handed back on their last receive for the queue's redrive policy to move to its dead-letter queue.");

    internal static readonly Counter<long> SendRetries = Meter.CreateCounter<long>(
        "asyncmcp.send.retries", "{retry}", "Sends retried after a passing broker or webhook failure.");

    internal static readonly UpDownCounter<long> ActiveSessions = Meter.CreateUpDownCounter<long>(
        "asyncmcp.server.active_sessions", "{session}", "Sessions open on a server, including the per-client contexts of session-less (2026-07-28) requests.");

    internal static readonly Histogram<double> MessageAge = Meter.CreateHistogram(
        "asyncmcp.server.message.age", "s", "How long a message waited on the broker before it was received (its maximum is the oldest message's age).", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = s_ageBuckets });

    internal static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "asyncmcp.server.request.duration", "s", "From a request's receipt to its answer reaching the broker.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });

    /// <summary>The <c>error.type</c> of a send that failed.</summary>
    internal static string ErrorType(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;

    /// <summary>The <c>error.type</c> of a JSON-RPC error answer: its code, as the MCP conventions record it.</summary>
    internal static string ErrorType(int code) => code.ToString(CultureInfo.InvariantCulture);

    /// <summary>The <c>error.type</c> of an answer: <see langword="null"/> for a result, the code of an error, <c>tool_error</c> for a tool result marked as an error.</summary>
    internal static string? ErrorType(JsonRpcMessage answer) => answer switch
    {
        JsonRpcError error => ErrorType(error.Error.Code),
        JsonRpcResponse { Result: JsonObject result } when result["isError"] is JsonValue flag && flag.TryGetValue(out bool isError) && isError => "tool_error",
        _ => null,
    };
}

/// <summary>
/// The metrics of one server endpoint (a request queue, a webhook endpoint): every measurement carries its
/// <c>messaging.system</c> and <c>messaging.destination.name</c>.
/// </summary>
internal sealed class ServerMetrics(string messagingSystem, string destination)
{
    private TagList Base => new()
    {
        { "messaging.system", messagingSystem },
        { "messaging.destination.name", destination },
    };

    public void MessageReceived(DateTimeOffset? sentAt, DateTimeOffset now)
    {
        var tags = Base;
        tags.Add("messaging.operation.name", "receive");
        AsyncMcpMetrics.ConsumedMessages.Add(1, tags);
        if (sentAt is { } sent && AsyncMcpMetrics.MessageAge.Enabled)
        {
            AsyncMcpMetrics.MessageAge.Record(Math.Max(0, (now - sent).TotalSeconds), Base);
        }
    }

    /// <summary>A request took a slot among those in flight.</summary>
    public void RequestStarted() => AsyncMcpMetrics.ActiveRequests.Add(1, Base);

    /// <summary>A request was taken into its session (not a copy of one running).</summary>
    public void RequestReceived(string method, int receiveCount)
    {
        var tags = WithMethod(method);
        AsyncMcpMetrics.RequestsReceived.Add(1, tags);
        if (receiveCount > 1)
        {
            AsyncMcpMetrics.RequestsRedelivered.Add(1, tags);
        }
    }

    /// <summary>A request settled: answered (<paramref name="errorType"/> null for a result), or not (with why).</summary>
    public void RequestSettled(string method, long startedTimestamp, string? errorType, bool handedBack = false)
    {
        AsyncMcpMetrics.ActiveRequests.Add(-1, Base);
        if (handedBack)
        {
            return;
        }

        var tags = WithMethod(method);
        if (errorType is null)
        {
            AsyncMcpMetrics.RequestsCompleted.Add(1, tags);
        }
        else
        {
            tags.Add("error.type", errorType);
            AsyncMcpMetrics.RequestsFailed.Add(1, tags);
        }

        AsyncMcpMetrics.RequestDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
    }

    /// <summary>Bad input refused before it became a request of a session.</summary>
    public void Refused(string? method, string errorType)
    {
        var tags = WithMethod(method);
        tags.Add("error.type", errorType);
        AsyncMcpMetrics.RequestsFailed.Add(1, tags);
    }

    /// <summary>A message handed back for the redrive policy; counted when this was its last receive before the broker moves it.</summary>
    public void HandedBackForRedrive(int receiveCount, int? maxReceiveCount)
    {
        if (maxReceiveCount is not { } max || receiveCount >= max)
        {
            AsyncMcpMetrics.DeadLettered.Add(1, Base);
        }
    }

    public void SessionsChanged(int delta) => AsyncMcpMetrics.ActiveSessions.Add(delta, Base);

    private TagList WithMethod(string? method)
    {
        var tags = Base;
        if (method is not null)
        {
            tags.Add("mcp.method.name", method);
        }

        return tags;
    }
}
