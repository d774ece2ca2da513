using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>What every session and request of one server shares, set once: where replies go and how, the answers
/// remembered, the in-flight count, the clock.</summary>
internal sealed class DispatchContext(
    IMessageSink sink,
    InboundEndpoint endpoint,
    AnswerCache answers,
    InFlightLimiter limiter,
    TimeProvider time,
    ILoggerFactory? loggerFactory,
    Func<ServerSession, string, Task> closeSession,
    ISessionPlacement? placement = null)
{
    public IMessageSink Sink { get; } = sink;

    public InboundEndpoint Endpoint { get; } = endpoint;

    /// <summary>The endpoint's metrics.</summary>
    public Diagnostics.ServerMetrics Metrics { get; } = new(endpoint.MessagingSystem, endpoint.Description);

    public AnswerCache Answers { get; } = answers;

    public InFlightLimiter Limiter { get; } = limiter;

    public TimeProvider Time { get; } = time;

    public ILoggerFactory? LoggerFactory { get; } = loggerFactory;

    /// <summary>Where sessions live when several workers serve the queue; <see langword="null"/> for a single server.</summary>
    public ISessionPlacement? Placement { get; } = placement;

    /// <summary>Closes a session that ends on its own (its handler ended, its client can no longer be reached), completing its unanswered requests.</summary>
    public Func<ServerSession, string, Task> CloseSession { get; } = closeSession;

    /// <summary>Builds the outbound form of a message of a session (or of nobody's session, for rejections).</summary>
    public OutboundMessage Build(JsonRpcMessage message, string? sessionId, string? clientId, string? orderingKey) =>
        OutboundMessageFactory.Create(message, Time.GetUtcNow(), sessionId, clientId, orderingKey: orderingKey);
}
