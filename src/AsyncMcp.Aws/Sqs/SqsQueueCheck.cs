using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Checks at start that a configured queue exists, so a typo fails at once with the option's name.</summary>
internal static class SqsQueueCheck
{
    public static async Task EnsureExistsAsync(IAmazonSQS sqs, string queueUrl, string optionName, CancellationToken cancellationToken)
    {
        try
        {
            await sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["QueueArn"] },
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonSQSException ex)
        {
            throw new AsyncMcpTransportException($"{optionName} '{queueUrl}' cannot be used: {ex.Message}", SqsErrors.IsTransient(ex), ex);
        }
    }
}
