namespace AsyncMcp.Messaging;

/// <summary>One JSON-RPC payload ready to hand to a broker, with its wire attributes.</summary>
/// <param name="Body">The JSON text of exactly one JSON-RPC message.</param>
/// <param name="Attributes">The wire attributes (see <see cref="Wire.WireAttributes"/>), string-valued.</param>
/// <param name="OrderingKey">
/// The key within which a broker must keep order (an SQS FIFO <c>MessageGroupId</c>), usually the session
/// or client id; ignored by brokers that do not order.
/// </param>
public sealed record OutboundMessage(string Body, IReadOnlyDictionary<string, string> Attributes, string? OrderingKey = null)
{
    /// <summary>
    /// An id that stays the same across retries of this message, so that a broker that deduplicates (an SQS FIFO
    /// queue) drops a retry of a send that had in fact succeeded.
    /// </summary>
    public string DeduplicationId { get; init; } = Guid.NewGuid().ToString("N");
}
