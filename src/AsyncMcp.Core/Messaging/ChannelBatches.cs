using System.Threading.Channels;

namespace AsyncMcp.Messaging;

/// <summary>Reads a batch from a channel of pushed or routed messages the way a long poll returns one.</summary>
internal static class ChannelBatches
{
    /// <summary>
    /// Waits for at least one message, then takes up to <paramref name="maxMessages"/> without waiting more. A channel
    /// completed without an error behaves like an empty long poll until the receiver stops; one completed with an
    /// error throws it.
    /// </summary>
    public static async Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(ChannelReader<IInboundMessage> reader, int maxMessages, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }

        var messages = new List<IInboundMessage>(Math.Min(maxMessages, 16));
        while (messages.Count < maxMessages && reader.TryRead(out var message))
        {
            messages.Add(message);
        }

        return messages;
    }
}
