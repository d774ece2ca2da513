using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Diagnostics;
using AsyncMcp.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// The health of a server that receives from an SQS queue: its receive loops run and their last receive succeeded, the
/// queue answers, and its dead-letter queue (when asked to look) holds fewer messages than the threshold.
/// </summary>
internal sealed class SqsServerHealthProbe(IAmazonSQS sqs, string system, string queueUrl, Func<McpQueueServer?> server) : IServerHealthProbe
{
    private string? _deadLetterQueueUrl;

    public string Name { get; } = $"{system} {queueUrl}";

    public async Task<HealthCheckResult> CheckAsync(AsyncMcpHealthCheckOptions options, CancellationToken cancellationToken)
    {
        var running = server();
        if (QueueServerHealth.CheckLoops(running) is { } loopProblem)
        {
            return loopProblem;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.BrokerTimeout);
        Dictionary<string, string> attributes;
        try
        {
            var response = await sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"] },
                timeout.Token).ConfigureAwait(false);
            attributes = response.Attributes ?? [];
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The queue {queueUrl} cannot be reached: {ex.Message}", ex);
        }

        var counts = $"{QueueServerHealth.Counts(running!.Dispatcher)}; queue: {Read(attributes, "ApproximateNumberOfMessages")} visible, {Read(attributes, "ApproximateNumberOfMessagesNotVisible")} in flight";
        if (options.DeadLetterThreshold is { } threshold && RedrivePolicy.Read(attributes) is { } redrive)
        {
            int depth;
            try
            {
                _deadLetterQueueUrl ??= (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = redrive.DeadLetterQueueName }, timeout.Token).ConfigureAwait(false)).QueueUrl;
                var dead = await sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = _deadLetterQueueUrl, AttributeNames = ["ApproximateNumberOfMessages"] }, timeout.Token).ConfigureAwait(false);
                depth = dead.ApproximateNumberOfMessages;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                _deadLetterQueueUrl = null;
                return HealthCheckResult.Unhealthy($"The dead-letter queue {redrive.DeadLetterQueueName} cannot be read: {ex.Message}", ex);
            }

            counts += $", dead-letter queue: {depth}";
            if (depth >= threshold)
            {
                return new HealthCheckResult(options.DeadLetterStatus, $"The dead-letter queue {redrive.DeadLetterQueueName} holds {depth} messages (threshold {threshold}); {counts}.");
            }
        }

        if (QueueServerHealth.CheckCapacity(running.Dispatcher) is { } full)
        {
            return HealthCheckResult.Degraded($"{full.Description} {counts}.");
        }

        return HealthCheckResult.Healthy($"Receiving; {counts}.");
    }

    private static string Read(Dictionary<string, string> attributes, string name) =>
        attributes.TryGetValue(name, out var value) ? value : "?";
}
