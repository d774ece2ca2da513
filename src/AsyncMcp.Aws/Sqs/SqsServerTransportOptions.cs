namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings of an MCP server that serves clients from one SQS request queue.</summary>
public sealed class SqsServerTransportOptions : SqsBackedServerTransportOptions
{
    /// <summary>The URL of the queue the server receives requests from. Required.</summary>
    public string RequestQueueUrl { get; set; } = string.Empty;

    /// <inheritdoc />
    public override void Validate()
    {
        SqsLimits.ValidateQueueUrl(nameof(SqsServerTransportOptions), nameof(RequestQueueUrl), RequestQueueUrl);
        base.Validate();
    }
}
