using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Checks at start that a configured queue exists, so a typo fails at once with the option's name.</summary>
internal static class SqsQueueCheck
{
    /// <summary>Returns the queue's <c>QueueArn</c> and, if it has one, <c>RedrivePolicy</c>.</summary>
    public static async Task<Dictionary<string, string>> EnsureExistsAsync(IAmazonSQS sqs, string queueUrl, string optionName, CancellationToken cancellationToken)
    {
        try
        {
            var response = await sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["QueueArn", "RedrivePolicy"] },
                cancellationToken).ConfigureAwait(false);
            return response.Attributes ?? [];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new AsyncMcpTransportException($"{optionName} '{queueUrl}' cannot be used: {ex.Message}", SqsErrors.IsTransient(ex), ex);
        }
    }
}
