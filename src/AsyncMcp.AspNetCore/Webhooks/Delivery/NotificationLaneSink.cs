using AsyncMcp.Messaging;
using AsyncMcp.Wire;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>
/// Sends the notifications of one ordering key (a session) one after another, each only once the previous one is done
/// with everything the inner sink does (its retries too, when the inner sink retries), so that progress arrives in the
/// order it was reported even when an attempt fails. Everything else goes straight through, concurrently.
/// </summary>
internal sealed class NotificationLaneSink(IMessageSink inner) : IMessageSink
{
    private readonly Dictionary<string, Task> _lanes = new(StringComparer.Ordinal);

    /// <summary>Whether a message is a notification: it names a method and no request id.</summary>
    public static bool IsNotification(OutboundMessage message) =>
        message.Attributes.ContainsKey(WireAttributes.Method) && !message.Attributes.ContainsKey(WireAttributes.RequestId);

    /// <inheritdoc />
    public bool PreservesOrder(string address) => false;

    /// <inheritdoc />
    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.OrderingKey is not { } key || !IsNotification(message))
        {
            return inner.SendAsync(address, message, cancellationToken);
        }

        lock (_lanes)
        {
            _lanes.TryGetValue(key, out var previous);
            var next = AfterAsync(previous, address, message, cancellationToken);
            _lanes[key] = next;
            _ = next.ContinueWith(
                (done, state) =>
                {
                    lock (_lanes)
                    {
                        if (_lanes.TryGetValue((string)state!, out var tail) && tail == done)
                        {
                            _lanes.Remove((string)state!);
                        }
                    }
                },
                key,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return next;
        }
    }

    private async Task AfterAsync(Task? previous, string address, OutboundMessage message, CancellationToken cancellationToken)
    {
        if (previous is not null)
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await inner.SendAsync(address, message, cancellationToken).ConfigureAwait(false);
    }
}
