using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Empties a worker queue whose worker is gone (or is this worker, stopping) through the dispatcher, which answers
/// each request in it as a lost session (the session ids name a worker that is gone), then deletes the queue. Messages
/// still in flight at the gone worker reappear once their visibility timeout ends: the sweep waits for them, up to a
/// deadline, so none is left unanswered. The source should poll briefly (a second), since the sweep checks the queue
/// between receives.
/// </summary>
internal static partial class WorkerQueueSweep
{
    // quiet: how long the queue must stay empty before it is deleted. For a stopping worker, that is how long other
    // workers may still hand messages over to it (their lease cache's lifetime), so that none is deleted unanswered.
    public static async Task SweepAsync(IAmazonSQS sqs, IMessageSource queue, MessageDispatcher dispatcher, TimeSpan deadline, ILogger logger, CancellationToken cancellationToken, TimeSpan quiet = default)
    {
        using var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        within.CancelAfter(deadline);
        var answered = 0;
        var quietUntil = DateTimeOffset.UtcNow + quiet;
        try
        {
            while (!await IsEmptyAsync(sqs, queue.Description, within.Token).ConfigureAwait(false) || DateTimeOffset.UtcNow < quietUntil)
            {
                var batch = await queue.ReceiveAsync(10, within.Token).ConfigureAwait(false);
                foreach (var message in batch)
                {
                    await dispatcher.DispatchAsync(message, within.Token).ConfigureAwait(false);
                    answered++;
                }
            }
        }
        catch (OperationCanceledException) when (within.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogDeadline(logger, queue.Description, deadline.TotalSeconds);
        }
        catch (Exception ex) when (SqsErrors.IsFatalForClient(ex))
        {
            // Another worker swept and deleted it first.
            return;
        }

        try
        {
            await sqs.DeleteQueueAsync(new DeleteQueueRequest { QueueUrl = queue.Description }, cancellationToken).ConfigureAwait(false);
            LogSwept(logger, queue.Description, answered);
        }
        catch (Exception ex) when (SqsErrors.IsFatalForClient(ex))
        {
        }
    }

    private static async Task<bool> IsEmptyAsync(IAmazonSQS sqs, string queueUrl, CancellationToken cancellationToken)
    {
        var attributes = await sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] },
            cancellationToken).ConfigureAwait(false);
        return attributes.ApproximateNumberOfMessages == 0 && attributes.ApproximateNumberOfMessagesNotVisible == 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker queue {QueueUrl} swept ({Count} messages answered as lost sessions) and deleted.")]
    private static partial void LogSwept(ILogger logger, string queueUrl, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker queue {QueueUrl} still held messages after {Seconds:F0} s; it is deleted anyway.")]
    private static partial void LogDeadline(ILogger logger, string queueUrl, double seconds);
}
