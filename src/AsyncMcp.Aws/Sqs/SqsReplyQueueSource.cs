using System.Diagnostics;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// A client's reply queue (or a server worker's own queue), whose long poll its owner can end cleanly: SQS (and the
/// fauxqs emulator) keep serving a receive whose connection was closed, so a poll abandoned by a stopping process takes
/// the next message on the queue, which then stays hidden for the visibility timeout from whoever reads the queue next
/// (the process that comes next, the sweep of a stopping worker's queue). Instead, a stopping owner puts
/// a small wake-up message on its own queue (attribute <see cref="WakeAttribute"/>); its poll returns with it, and
/// the wake-up is deleted here and never handed on.
/// </summary>
/// <remarks>
/// <para>
/// A receive that an interruption found in flight returns only once it has taken its wake-up (briefly polling on when
/// other messages came first), so that no wake-up is left on the queue when nothing polls after it.
/// </para>
/// <para>
/// A wake-up of another owner (a process that shares the queue, or one whose poll never took its own) is handed back
/// the first times it is received, so that its owner's poll can still take it, and deleted after that.
/// </para>
/// </remarks>
internal sealed partial class SqsReplyQueueSource : IInterruptibleMessageSource
{
    /// <summary>The attribute that marks a wake-up message; its value names the receiver and the interruption that sent it.</summary>
    public const string WakeAttribute = "AsyncMcpWake";

    private const int ForeignWakeHandBacks = 2;
    private static readonly TimeSpan s_wakeSearch = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_wakeSearchWait = TimeSpan.FromSeconds(1);

    private readonly IAmazonSQS _sqs;
    private readonly string _queueUrl;
    private readonly SqsMessageSource _inner;
    private readonly ILogger _logger;
    private readonly string _owner = Guid.NewGuid().ToString("N");
    private readonly Lock _gate = new();
    private TaskCompletionSource? _receiving;
    private string? _wake;
    private int _wakes;
    private bool _interruptPending;

    public SqsReplyQueueSource(IAmazonSQS sqs, string queueUrl, SqsMessageSource inner, ILogger? logger = null)
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
            _wake = null;
        }

        try
        {
            var kept = new List<IInboundMessage>();
            var woken = await ReceiveIntoAsync(kept, maxMessages, null, cancellationToken).ConfigureAwait(false);
            var searching = Stopwatch.StartNew();
            while (true)
            {
                lock (_gate)
                {
                    // Done unless an interruption sent a wake-up that has not come back yet, and there is time to look for it.
                    if (woken || _wake is null || searching.Elapsed >= s_wakeSearch)
                    {
                        _receiving = null;
                        break;
                    }
                }

                woken = await ReceiveIntoAsync(kept, Math.Max(1, maxMessages - kept.Count), s_wakeSearchWait, cancellationToken).ConfigureAwait(false);
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

                _wake = null;
            }

            receiving.TrySetResult();
        }
    }

    public async Task InterruptAsync(CancellationToken cancellationToken)
    {
        Task receiving;
        string wake;
        lock (_gate)
        {
            if (_receiving is null)
            {
                _interruptPending = true;
                return;
            }

            receiving = _receiving.Task;
            if (_wake is not null)
            {
                // Already interrupted: one wake-up per receive.
                wake = string.Empty;
            }
            else
            {
                wake = _wake = _owner + "/" + (++_wakes).ToString(CultureInfo.InvariantCulture);
            }
        }

        if (wake.Length > 0)
        {
            var request = new SendMessageRequest
            {
                QueueUrl = _queueUrl,
                MessageBody = "{}",
                MessageAttributes = new() { [WakeAttribute] = new MessageAttributeValue { DataType = "String", StringValue = wake } },
            };
            if (_queueUrl.EndsWith(".fifo", StringComparison.Ordinal))
            {
                request.MessageGroupId = "asyncmcp-wake-" + _owner;
                request.MessageDeduplicationId = Guid.NewGuid().ToString("N");
            }

            await _sqs.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
        }

        await receiving.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives, settles the wake-ups among the messages, keeps the rest; whether this receive's own wake-up came.</summary>
    private async Task<bool> ReceiveIntoAsync(List<IInboundMessage> kept, int maxMessages, TimeSpan? waitTime, CancellationToken cancellationToken)
    {
        var messages = waitTime is { } wait
            ? await _inner.ReceiveAsync(maxMessages, wait, cancellationToken).ConfigureAwait(false)
            : await _inner.ReceiveAsync(maxMessages, cancellationToken).ConfigureAwait(false);
        var woken = false;
        foreach (var message in messages)
        {
            if (!message.Attributes.TryGetValue(WakeAttribute, out var wake))
            {
                kept.Add(message);
                continue;
            }

            string? current;
            lock (_gate)
            {
                current = _wake;
            }

            woken |= wake == current;
            await SettleWakeAsync(message, own: wake.StartsWith(_owner + "/", StringComparison.Ordinal)).ConfigureAwait(false);
        }

        return woken;
    }

    private async Task SettleWakeAsync(IInboundMessage message, bool own)
    {
        try
        {
            if (!own && message.ReceiveCount <= ForeignWakeHandBacks)
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
