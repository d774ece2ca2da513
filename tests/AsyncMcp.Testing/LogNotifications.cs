using System.Collections.Concurrent;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Testing;

/// <summary>Collects the data of the log notifications (<c>notifications/message</c>) a client receives.</summary>
public sealed class LogNotifications
{
    /// <summary>The data of each log notification, as text, in the order the client handled them.</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>Client options whose handler collects here.</summary>
    public McpClientOptions ClientOptions() => new()
    {
        Handlers = new McpClientHandlers
        {
            NotificationHandlers =
            [
                new(NotificationMethods.LoggingMessageNotification, (notification, _) =>
                {
                    Received.Enqueue(notification.Params?["data"]?.GetValue<string>() ?? string.Empty);
                    return ValueTask.CompletedTask;
                }),
            ],
        },
    };
}
