using Microsoft.Extensions.Logging;

namespace AsyncMcp.Messaging;

/// <summary>Settles a received message with the broker, logging (not throwing) a broker failure: the broker's own lease ends such cases.</summary>
internal static partial class Settlement
{
    /// <summary>Completes (deletes) a message; a broker failure is logged.</summary>
    public static Task CompleteQuietlyAsync(this IInboundMessage message, ILogger logger, CancellationToken cancellationToken = default) =>
        QuietlyAsync(message.CompleteAsync, message.MessageId, "complete", logger, cancellationToken);

    /// <summary>Hands a message back to the broker (visible again at once); a broker failure is logged.</summary>
    public static Task ReleaseQuietlyAsync(this IInboundMessage message, ILogger logger, CancellationToken cancellationToken = default) =>
        QuietlyAsync(message.ReleaseAsync, message.MessageId, "release", logger, cancellationToken);

    private static async Task QuietlyAsync(Func<CancellationToken, Task> action, string messageId, string operation, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await action(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFailed(logger, operation, messageId, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broker operation '{Operation}' on message {MessageId} failed.")]
    private static partial void LogFailed(ILogger logger, string operation, string messageId, Exception exception);
}
