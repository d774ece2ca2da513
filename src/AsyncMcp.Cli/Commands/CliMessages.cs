using Amazon.Runtime;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// Turns the libraries' messages into the command's: an option of a C# options class becomes the flag that sets it,
/// and a failure becomes one line that says what to do.
/// </summary>
internal static class CliMessages
{
    /// <summary>How to make a Standard Webhooks secret from a shell.</summary>
    public const string MakeSecret = "make one with: echo \"whsec_$(openssl rand -base64 32)\"";

    // The library's option names as the command's users know them. Longer names first: "…Options.Security.Secret"
    // must be replaced before a shorter name it contains.
    private static readonly (string Option, string Flag)[] s_flags =
    [
        ("SqsServerTransportOptions.RequestQueueUrl", "--request-queue"),
        ("SqsClientTransportOptions.ServerRequestQueueUrl", "--request-queue"),
        ("SqsClientTransportOptions.ResponseQueueUrl", "--response-queue"),
        ("SnsSqsServerTransportOptions.ServerQueueUrl", "--server-queue"),
        ("SnsSqsClientTransportOptions.ServerTopicArn", "--server-topic"),
        ("SnsSqsClientTransportOptions.ClientTopicArn", "--client-topic"),
        ("SnsSqsClientTransportOptions.ClientQueueUrl", "--client-queue"),
        ("WebhookClientTransportOptions.Security.Secret", "--secret"),
        ("WebhookServerTransportOptions.Security.Secret", "--secret"),
        ("HybridClientTransportOptions.Security.Secret", "--secret"),
        ("HybridServerTransportOptions.Security.Secret", "--secret"),
        ("WebhookClientTransportOptions.ServerUrl", "--server-url"),
        ("HybridClientTransportOptions.Endpoint", "--server-url"),
        ("HybridServerTransportOptions.WebhookTools", "--webhook-tool"),
        ("McpServerBridgeOptions.Command", "a command after '--'"),
        ("McpServerBridgeOptions.Url", "--url"),
        ("McpServerBridgeOptions.MaxSessions", "--max-sessions"),
        ("StreamableHttpProxyOptions.BearerToken", "--bearer-token"),
        ("StreamableHttpProxyOptions.AllowedHosts", "--allowed-host"),
        ("StreamableHttpProxyOptions.SessionIdleTimeout", "--session-idle-timeout"),
        ("Security.AllowUnsigned", "--allow-unsigned"),
        ("generate one with WebhookSecret.Generate()", MakeSecret),
        ("WebhookSecret.Generate() makes one", MakeSecret),
    ];

    /// <summary>A library message with every option name it mentions replaced by its flag.</summary>
    public static string WithFlags(string message)
    {
        foreach (var (option, flag) in s_flags)
        {
            message = message.Replace(option, flag, StringComparison.Ordinal);
        }

        return message;
    }

    /// <summary>What went wrong, for the one line a failing command prints.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        CliFailureException failure => failure.Message,
        AmazonClientException when IsMissingCredentials(exception) =>
            "no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for a local emulator), or AWS_PROFILE; " +
            "an MCP client that starts this command with a minimal environment (the MCP Inspector, for one) must pass them (-e NAME=value).",
        _ => WithFlags(Chain(exception)),
    };

    /// <summary>An exception's message followed by those of its inner exceptions that add something ("Failed to connect transport: … No such file or directory").</summary>
    public static string Chain(Exception exception)
    {
        var parts = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            var message = current.Message.Trim().TrimEnd('.');
            if (message.Length > 0 && !parts.Any(p => p.Contains(message, StringComparison.Ordinal)) && !IsGeneric(current, message))
            {
                parts.Add(message);
            }
        }

        return parts.Count == 0 ? exception.GetType().Name : string.Join(": ", parts) + ".";
    }

    /// <summary>The inner message that says most, for a log line.</summary>
    public static string Innermost(Exception exception) => Chain(exception).TrimEnd('.');

    private static bool IsGeneric(Exception exception, string message) =>
        message.StartsWith("Exception of type", StringComparison.Ordinal) ||
        (exception is TaskCanceledException or OperationCanceledException && exception.InnerException is null && message.StartsWith("A task was canceled", StringComparison.Ordinal));

    private static bool IsMissingCredentials(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) && current is AmazonClientException)
            {
                return true;
            }
        }

        return false;
    }
}
