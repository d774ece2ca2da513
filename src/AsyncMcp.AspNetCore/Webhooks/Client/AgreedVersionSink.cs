using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>
/// Lets <c>X-Protocol-Version</c> name only a revision the server has agreed to: the one a 2026-07-28 request declares
/// for itself, or the one <c>initialize</c> negotiated, as the session transport sets it. <c>initialize</c> itself goes
/// without the header: it only proposes a revision, in its body, and a server that checks the header against a fixed
/// list before reading the body (asyncmcp's webhook server answers 400 to anything newer than 2025-06-18) would refuse
/// the very handshake that was to settle it.
/// </summary>
internal sealed class AgreedVersionSink(IMessageSink inner) : IMessageSink
{
    /// <inheritdoc />
    public bool PreservesOrder(string address) => inner.PreservesOrder(address);

    /// <inheritdoc />
    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Attributes.TryGetValue(WireAttributes.Method, out var method) &&
            method == RequestMethods.Initialize &&
            message.Attributes.ContainsKey(WireAttributes.ProtocolVersion))
        {
            var attributes = message.Attributes.Where(a => a.Key != WireAttributes.ProtocolVersion).ToDictionary(StringComparer.Ordinal);
            message = message with { Attributes = attributes };
        }

        return inner.SendAsync(address, message, cancellationToken);
    }
}
