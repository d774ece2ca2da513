using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Messaging;

/// <summary>
/// Keeps one received message invisible to other receivers while it is being worked on: renews its lease at about 70%
/// of the lease duration until <see cref="Dispose"/>, and stops for good once the broker says the lease is lost
/// (the receipt is no longer valid). Starts with the object; the owner disposes it when it settles the message.
/// </summary>
internal sealed partial class MessageLease : IDisposable
{
    private const double RenewAt = 0.7;
    private static readonly TimeSpan s_retryAfterFailure = TimeSpan.FromSeconds(1);

    private readonly Func<IInboundMessage> _message;
    private readonly TimeSpan _duration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewals;
    private int _disposed;

    /// <param name="message">The message to keep, read at each renewal (a redelivery can replace its receipt).</param>
    /// <param name="duration">How long the broker keeps a message invisible; <see cref="Timeout.InfiniteTimeSpan"/> or less than a second for sources without leases.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    public MessageLease(Func<IInboundMessage> message, TimeSpan duration, TimeProvider time, ILogger? logger = null)
    {
        _message = message;
        _duration = duration;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _renewals = duration > TimeSpan.Zero && duration != Timeout.InfiniteTimeSpan
            ? RenewAsync(_stop.Token)
            : Task.CompletedTask;
    }

    /// <summary>Whether the broker no longer holds the message for us: it may be handed to another receiver.</summary>
    public bool IsLost { get; private set; }

    /// <summary>Starts the renewals again after the broker handed out the same message again with a new receipt.</summary>
    public void Renewed() => IsLost = false;

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        var wait = _duration * RenewAt;
        try
        {
            while (true)
            {
                // Settling cancels this wait, once per message: it is seen here without an exception being thrown.
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                if (IsLost)
                {
                    wait = _duration * RenewAt;
                    continue;
                }

                var message = _message();
                try
                {
                    if (await message.ExtendAsync(_duration, cancellationToken).ConfigureAwait(false))
                    {
                        wait = _duration * RenewAt;
                    }
                    else
                    {
                        IsLost = true;
                        LogLeaseLost(message.MessageId);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    // A passing broker failure: try again soon, well before the lease ends.
                    LogRenewalFailed(message.MessageId, ex);
                    wait = s_retryAfterFailure < _duration * (1 - RenewAt) / 2 ? s_retryAfterFailure : _duration * (1 - RenewAt) / 2;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Settled.
        }
    }

    /// <summary>Whether the renewals have ended (settled, or never needed).</summary>
    internal Task Renewals => _renewals;

    /// <summary>Stops renewing: the message was settled. Safe to call more than once; never throws.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Not awaited: settling a message must not wait for a renewal to notice. The source is not disposed for the
        // same reason (a renewal may still be reading its token); it holds no timer, so nothing leaks.
        _stop.Cancel();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: its lease could not be renewed, so the broker may deliver it again.")]
    private partial void LogLeaseLost(string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease of message {MessageId} failed; trying again shortly.")]
    private partial void LogRenewalFailed(string messageId, Exception exception);
}
