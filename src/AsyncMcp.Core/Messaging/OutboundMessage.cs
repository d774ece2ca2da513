using ModelContextProtocol.Protocol;

namespace AsyncMcp.Messaging;

/// <summary>One JSON-RPC payload ready to hand to a broker, with its wire attributes.</summary>
/// <param name="Body">The JSON text of exactly one JSON-RPC message.</param>
/// <param name="Attributes">The wire attributes (see <see cref="Wire.WireAttributes"/>), string-valued.</param>
/// <param name="OrderingKey">
/// The key within which a broker must keep order (an SQS FIFO <c>MessageGroupId</c>), usually the session
/// or client id; ignored by brokers that do not order.
/// </param>
internal sealed record OutboundMessage(string Body, IReadOnlyDictionary<string, string> Attributes, string? OrderingKey = null)
{
    private string? _deduplicationId;

    /// <summary>
    /// An id that stays the same across retries of this message, so that a broker that deduplicates (an SQS FIFO
    /// queue) drops a retry of a send that had in fact succeeded. Made on first use, once: most messages go to queues
    /// that do not deduplicate and never need one.
    /// </summary>
    public string DeduplicationId
    {
        get => _deduplicationId ?? Interlocked.CompareExchange(ref _deduplicationId, Guid.NewGuid().ToString("N"), null) ?? _deduplicationId!;
        init => _deduplicationId = value;
    }

    /// <summary>What the payload is: a request, a notification, or an answer (a result or an error).</summary>
    public OutboundKind Kind { get; init; }

    /// <summary>For an answer, the id of the request it answers; otherwise <see langword="null"/>.</summary>
    public RequestId? AnsweredId { get; init; }

    /// <summary>Whether this is the notice that a session closed: the last message of its session, after all the others.</summary>
    public bool ClosesSession => Attributes.TryGetValue(Wire.WireAttributes.Method, out var method) && method == Wire.WireMethods.SessionClose;
}

/// <summary>The kind of JSON-RPC message an <see cref="OutboundMessage"/> carries.</summary>
internal enum OutboundKind
{
    /// <summary>A request: it expects an answer.</summary>
    Request,

    /// <summary>A notification: nothing answers it.</summary>
    Notification,

    /// <summary>A result or an error answering a request.</summary>
    Answer,
}
