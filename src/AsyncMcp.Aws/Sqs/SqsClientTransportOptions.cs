namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings of an MCP client that talks to a server over SQS.</summary>
public sealed class SqsClientTransportOptions : SqsBackedClientTransportOptions
{
    /// <summary>The URL of the server's request queue. Required.</summary>
    public string ServerRequestQueueUrl { get; set; } = string.Empty;

    /// <summary>The URL of this client's own response queue (may be shared with other clients). Required.</summary>
    public string ResponseQueueUrl { get; set; } = string.Empty;

    /// <inheritdoc />
    public override void Validate()
    {
        SqsLimits.ValidateQueueUrl(nameof(SqsClientTransportOptions), nameof(ServerRequestQueueUrl), ServerRequestQueueUrl);
        SqsLimits.ValidateQueueUrl(nameof(SqsClientTransportOptions), nameof(ResponseQueueUrl), ResponseQueueUrl);
        base.Validate();
    }
}
