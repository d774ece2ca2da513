using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// A client's reply queue, whose long poll its owner can end cleanly: SQS (and the fauxqs emulator) keep serving a
/// receive whose connection was closed, so a poll abandoned by a stopping process takes the next reply on the queue,
/// which then stays hidden for the visibility timeout from the process that comes next. Instead, a stopping owner puts
/// a small wake-up message on its own queue (attribute <see cref="WakeAttribute"/>); its poll returns with it, and
/// the wake-up is deleted here and never handed on.
/// </summary>
/// <remarks>
/// A wake-up of another owner (a process that shares the queue, or one that stopped before its poll took its own) is
/// handed back the first times it is received, so that its owner's poll can still take it, and deleted after that.
/// </remarks>
internal sealed partial class SqsReplyQueueSource : IInterruptibleMessageSource
{
    /// <summary>The attribute that marks a wake-up message; its value names the source that sent it.</summary>
    public const string WakeAttribute = "AsyncMcpWake";

    private const int ForeignWakeHandBacks = 2;

    private readonly IAmazonSQS _sqs;
    private readonly string _queueUrl;
    private readonly IMessageSource _inner;
    private readonly ILogger _logger;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly Lock _gate = new();
    private TaskCompletionSource? _receiving;
    private bool _interruptPending;

    public SqsReplyQueueSource(IAmazonSQS sqs, string queueUrl, IMessageSource inner, ILogger? logger = null)
    {
        _sqs = sqs;
        _queueUrl = queueUrl;
        _inner = inner;
        _logger = logger ?? NullLogger.Instance;
    }

    public string Description => _inner.Description;

    public TimeSpan LeaseDuration => _inner.LeaseDuration;

    public async Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken)
    {
        TaskCompletionSource receiving;
        lock (_gate)
        {
            if (_interruptPending)
            {
                // Interrupted while no poll was in flight: this is the poll that interruption was meant to end.
                _interruptPending = false;
                return [];
            }

            receiving = _receiving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        try
        {
            var messages = await _inner.ReceiveAsync(maxMessages, cancellationToken).ConfigureAwait(false);
            if (!messages.Any(m => m.Attributes.ContainsKey(WakeAttribute)))
            {
                return messages;
            }

            var kept = new List<IInboundMessage>(messages.Count);
            foreach (var message in messages)
            {
                if (message.Attributes.TryGetValue(WakeAttribute, out var owner))
                {
                    await SettleWakeAsync(message, owner).ConfigureAwait(false);
                }
                else
                {
                    kept.Add(message);
                }
            }

            return kept;
        }
        finally
        {
            lock (_gate)
            {
                if (ReferenceEquals(_receiving, receiving))
                {
                    _receiving = null;
                }
            }

            receiving.TrySetResult();
        }
    }

    public async Task InterruptAsync(CancellationToken cancellationToken)
    {
        Task receiving;
        lock (_gate)
        {
            if (_receiving is null)
            {
                _interruptPending = true;
                return;
            }

            receiving = _receiving.Task;
        }

        var wake = new SendMessageRequest
        {
            QueueUrl = _queueUrl,
            MessageBody = "{}",
            MessageAttributes = new() { [WakeAttribute] = new MessageAttributeValue { DataType = "String", StringValue = _owner } },
        };
        if (_queueUrl.EndsWith(".fifo", StringComparison.Ordinal))
        {
            wake.MessageGroupId = "asyncmcp-wake-" + _owner;
            wake.MessageDeduplicationId = Guid.NewGuid().ToString("N");
        }

        await _sqs.SendMessageAsync(wake, cancellationToken).ConfigureAwait(false);
        await receiving.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SettleWakeAsync(IInboundMessage message, string owner)
    {
        try
        {
            if (owner != _owner && message.ReceiveCount <= ForeignWakeHandBacks)
            {
                await message.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await message.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Left on the queue: the next receive settles it.
            LogWakeSettleFailed(_logger, _queueUrl, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Settling a wake-up message on {QueueUrl} failed; it is settled when received again.")]
    private static partial void LogWakeSettleFailed(ILogger logger, string queueUrl, Exception exception);
}
