using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Tasks;

/// <summary>
/// The work of tasks on an SQS queue shared by every worker: one message per task (<c>{"taskId":"…"}</c>), leased with
/// the visibility timeout and renewed with <c>ChangeMessageVisibility</c> while the task runs, deleted once its end is
/// recorded. A worker that dies stops renewing; the message becomes visible again and another worker takes the task over.
/// </summary>
/// <remarks>
/// Give the queue a dead-letter queue (<c>asyncmcp provision --task-queue</c> does) with a receive count above
/// <see cref="McpTasksServerOptions.MaxAttempts"/>: the runtime records a task that was started that many times as failed
/// and deletes its message, so the dead-letter queue only catches messages it could not read.
/// </remarks>
[SuppressMessage("Naming", "CA1711", Justification = "It is an SQS queue.")]
public sealed partial class SqsTaskWorkQueue : ITaskWorkQueue
{
    private static readonly TimeSpan s_waitTime = TimeSpan.FromSeconds(20);
    private static readonly List<string> s_systemAttributes = ["ApproximateReceiveCount"];

    private readonly IAmazonSQS _sqs;
    private readonly string _queueUrl;
    private readonly ILogger _logger;

    /// <summary>Creates the queue's client side; the queue must exist.</summary>
    /// <param name="sqs">The SQS client; not disposed here.</param>
    /// <param name="queueUrl">The queue's URL.</param>
    /// <param name="loggerFactory">Where to log unreadable messages; none when <see langword="null"/>.</param>
    public SqsTaskWorkQueue(IAmazonSQS sqs, string queueUrl, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        if (!Uri.TryCreate(queueUrl, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"The task queue URL must be an absolute URL (got '{queueUrl}').", nameof(queueUrl));
        }

        _sqs = sqs;
        _queueUrl = queueUrl;
        _logger = loggerFactory?.CreateLogger<SqsTaskWorkQueue>() ?? NullLogger<SqsTaskWorkQueue>.Instance;
    }

    /// <inheritdoc/>
    public async ValueTask EnqueueAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var body = JsonSerializer.Serialize(new TaskWorkMessage(taskId), TaskWorkMessageJsonContext.Default.TaskWorkMessage);
        await CallAsync("SendMessage", () => _sqs.SendMessageAsync(new SendMessageRequest { QueueUrl = _queueUrl, MessageBody = body }, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<TaskWorkItem>> ReceiveAsync(int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxItems, 1);
        var response = await CallAsync("ReceiveMessage", () => _sqs.ReceiveMessageAsync(
            new ReceiveMessageRequest
            {
                QueueUrl = _queueUrl,
                MaxNumberOfMessages = Math.Min(maxItems, 10),
                WaitTimeSeconds = (int)s_waitTime.TotalSeconds,
                VisibilityTimeout = Seconds(leaseDuration),
                MessageSystemAttributeNames = s_systemAttributes,
            },
            cancellationToken)).ConfigureAwait(false);

        var items = new List<TaskWorkItem>();
        foreach (var message in response.Messages ?? [])
        {
            if (Read(message) is { } taskId)
            {
                var count = message.Attributes?.TryGetValue("ApproximateReceiveCount", out var text) == true
                    && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
                items.Add(new TaskWorkItem(taskId, count, message.ReceiptHandle));
                continue;
            }

            // Not the work of a task: nothing can ever run it, so it goes rather than coming back every lease.
            LogUnreadable(_logger, _queueUrl, message.MessageId);
            await CallAsync("DeleteMessage", () => _sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = _queueUrl, ReceiptHandle = message.ReceiptHandle }, cancellationToken)).ConfigureAwait(false);
        }

        return items;
    }

    /// <inheritdoc/>
    public async ValueTask RenewAsync(TaskWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await CallAsync("ChangeMessageVisibility", () => _sqs.ChangeMessageVisibilityAsync(
            new ChangeMessageVisibilityRequest { QueueUrl = _queueUrl, ReceiptHandle = item.Receipt, VisibilityTimeout = Seconds(leaseDuration) },
            cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask CompleteAsync(TaskWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await CallAsync("DeleteMessage", () => _sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = _queueUrl, ReceiptHandle = item.Receipt }, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(TaskWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        await CallAsync("ChangeMessageVisibility", () => _sqs.ChangeMessageVisibilityAsync(
            new ChangeMessageVisibilityRequest { QueueUrl = _queueUrl, ReceiptHandle = item.Receipt, VisibilityTimeout = 0 },
            cancellationToken)).ConfigureAwait(false);
    }

    private static string? Read(Message message)
    {
        try
        {
            return JsonSerializer.Deserialize(message.Body ?? string.Empty, TaskWorkMessageJsonContext.Default.TaskWorkMessage)?.TaskId is { Length: > 0 } taskId ? taskId : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static int Seconds(TimeSpan duration) => (int)Math.Clamp(Math.Ceiling(duration.TotalSeconds), 0, 43_200);

    private async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw SqsErrors.Wrap(operation, _queueUrl, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} on the task queue {QueueUrl} is not a task's work item ({{\"taskId\":\"…\"}}); deleted.")]
    private static partial void LogUnreadable(ILogger logger, string queueUrl, string messageId);
}
