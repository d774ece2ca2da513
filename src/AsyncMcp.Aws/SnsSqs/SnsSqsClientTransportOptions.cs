using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Aws.SnsSqs;

/// <summary>
/// Settings of an MCP client that publishes requests to the server's SNS topic and receives replies from its own
/// SQS queue subscribed to its own topic.
/// </summary>
public sealed class SnsSqsClientTransportOptions : SqsBackedClientTransportOptions
{
    /// <summary>Creates the options with the log name <c>sns-sqs</c>.</summary>
    public SnsSqsClientTransportOptions() => Name = "sns-sqs";

    /// <summary>The ARN of the server's topic, where requests are published. Required.</summary>
    public string ServerTopicArn { get; set; } = string.Empty;

    /// <summary>The ARN of this client's topic, where the server publishes replies (may be shared). Required.</summary>
    public string ClientTopicArn { get; set; } = string.Empty;

    /// <summary>The URL of this client's queue, subscribed to <see cref="ClientTopicArn"/>. Required.</summary>
    public string ClientQueueUrl { get; set; } = string.Empty;

    /// <inheritdoc />
    public override void Validate()
    {
        ValidateTopicArn(nameof(ServerTopicArn), ServerTopicArn);
        ValidateTopicArn(nameof(ClientTopicArn), ClientTopicArn);
        SqsLimits.ValidateQueueUrl(nameof(SnsSqsClientTransportOptions), nameof(ClientQueueUrl), ClientQueueUrl);
        base.Validate();
    }

    internal static bool IsTopicArn(string? value) =>
        value is not null && Wire.ReplyAddressConvention.SnsClientTopic.IsWellFormed(value);

    private static void ValidateTopicArn(string property, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"{nameof(SnsSqsClientTransportOptions)}.{property} is required.");
        }

        if (!IsTopicArn(value))
        {
            throw new ArgumentException($"{nameof(SnsSqsClientTransportOptions)}.{property} must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-server (was '{value}').");
        }
    }
}
