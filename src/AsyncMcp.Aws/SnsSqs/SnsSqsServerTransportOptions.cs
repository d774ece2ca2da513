using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Aws.SnsSqs;

/// <summary>
/// Settings of an MCP server that receives requests from an SQS queue subscribed to the server's SNS topic and
/// publishes replies to each client's topic.
/// </summary>
public sealed class SnsSqsServerTransportOptions : SqsBackedServerTransportOptions
{
    /// <summary>The URL of the server's queue, subscribed to the server topic (raw or enveloped delivery). Required.</summary>
    public string ServerQueueUrl { get; set; } = string.Empty;

    /// <inheritdoc />
    public override void Validate()
    {
        SqsLimits.ValidateQueueUrl(nameof(SnsSqsServerTransportOptions), nameof(ServerQueueUrl), ServerQueueUrl);
        base.Validate();
    }
}
