namespace AsyncMcp.Aws.Sqs;

/// <summary>Settings of an MCP client that talks to a server over SQS.</summary>
/// <remarks>
/// A session's later messages go straight to the queue of the server worker that holds the session, when the server is
/// one of several workers on the request queue and names its own queue in its <c>initialize</c> answer.
/// </remarks>
public sealed class SqsClientTransportOptions : SqsBackedClientTransportOptions
{
    /// <summary>Creates the settings.</summary>
    public SqsClientTransportOptions() => FollowSessionAddress = true;

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
