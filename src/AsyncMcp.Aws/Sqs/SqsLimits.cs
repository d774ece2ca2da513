namespace AsyncMcp.Aws.Sqs;

/// <summary>Hard limits of Amazon SQS that options are checked against.</summary>
internal static class SqsLimits
{
    /// <summary>The most messages one ReceiveMessage call returns.</summary>
    public const int MaxReceiveBatchSize = 10;

    /// <summary>The longest long poll.</summary>
    public static readonly TimeSpan MaxWaitTime = TimeSpan.FromSeconds(20);

    /// <summary>The longest visibility timeout.</summary>
    public static readonly TimeSpan MaxVisibilityTimeout = TimeSpan.FromHours(12);

    /// <summary>The most message attributes on one message.</summary>
    public const int MaxMessageAttributes = 10;

    /// <summary>The most attributes AsyncMcp itself puts on one client message.</summary>
    public const int ReservedMessageAttributes = 7;

    internal static void ValidateReceive(string optionsName, int receiveBatchSize, TimeSpan waitTime, TimeSpan visibilityTimeout)
    {
        if (receiveBatchSize is < 1 or > MaxReceiveBatchSize)
        {
            throw new ArgumentException($"{optionsName}.ReceiveBatchSize must be between 1 and {MaxReceiveBatchSize} (was {receiveBatchSize}).");
        }

        if (waitTime < TimeSpan.Zero || waitTime > MaxWaitTime || waitTime.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException($"{optionsName}.WaitTime must be a whole number of seconds from 0 to 20 (was {waitTime}).");
        }

        if (visibilityTimeout < TimeSpan.FromSeconds(1) || visibilityTimeout > MaxVisibilityTimeout)
        {
            throw new ArgumentException($"{optionsName}.VisibilityTimeout must be between 1 second and 12 hours (was {visibilityTimeout}).");
        }
    }

    /// <summary>Checks the settings every SQS-backed transport has: receive limits, message size and large-payload offload.</summary>
    internal static void ValidateSqsBacked(string optionsName, int receiveBatchSize, TimeSpan waitTime, TimeSpan visibilityTimeout, int? maxMessageBytes, LargePayloads.SqsLargePayloadOptions? largePayloads)
    {
        ValidateReceive(optionsName, receiveBatchSize, waitTime, visibilityTimeout);
        largePayloads?.Validate(optionsName);
        if (maxMessageBytes is < 1024)
        {
            throw new ArgumentException($"{optionsName}.MaxMessageBytes must be at least 1024 (was {maxMessageBytes}).");
        }
    }

    internal static void ValidateQueueUrl(string optionsName, string propertyName, string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new ArgumentException($"{optionsName}.{propertyName} is required.");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"{optionsName}.{propertyName} must be an http(s) SQS queue URL (was '{url}').");
        }
    }
}
