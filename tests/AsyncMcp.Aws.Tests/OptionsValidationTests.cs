using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Aws.Tests;

public sealed class OptionsValidationTests
{
    private const string Url = "http://127.0.0.1:1/000000000000/q";

    public static TheoryData<string, Action<SqsServerTransportOptions>> BadServerOptions => new()
    {
        { "RequestQueueUrl is required", o => o.RequestQueueUrl = "" },
        { "RequestQueueUrl must be an http(s)", o => o.RequestQueueUrl = "queue-name" },
        { "ReceiveBatchSize must be between 1 and 10", o => o.ReceiveBatchSize = 11 },
        { "ReceiveBatchSize must be between 1 and 10", o => o.ReceiveBatchSize = 0 },
        { "WaitTime must be a whole number of seconds from 0 to 20", o => o.WaitTime = TimeSpan.FromSeconds(21) },
        { "WaitTime must be a whole number of seconds from 0 to 20", o => o.WaitTime = TimeSpan.FromMilliseconds(1500) },
        { "VisibilityTimeout must be between 1 second and 12 hours", o => o.VisibilityTimeout = TimeSpan.Zero },
        { "MaxSessions must be at least 1", o => o.MaxSessions = 0 },
        { "MaxConcurrentRequests must be at least 1", o => o.MaxConcurrentRequests = 0 },
        { "SessionIdleTimeout must be positive", o => o.SessionIdleTimeout = TimeSpan.Zero },
        { "MaxMessageBytes must be at least 1024", o => o.MaxMessageBytes = 10 },
        { "SessionIdleTimeout must be positive and at most 365 days", o => o.SessionIdleTimeout = TimeSpan.MaxValue },
        { "DuplicateWindow must be from zero to 14 days", o => o.DuplicateWindow = TimeSpan.MaxValue },
        { "ShutdownDrainTimeout must be from zero to one hour", o => o.ShutdownDrainTimeout = TimeSpan.FromDays(30) },
        { "SendRetry.MaxAttempts must be at least 1", o => o.SendRetry.MaxAttempts = 0 },
    };

    [Theory]
    [MemberData(nameof(BadServerOptions))]
    public void Bad_server_options_are_refused_with_a_message_naming_the_option(string expected, Action<SqsServerTransportOptions> corrupt)
    {
        var options = new SqsServerTransportOptions { RequestQueueUrl = Url };
        corrupt(options);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("SqsServerTransportOptions." + expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_message_attributes_must_fit_the_SQS_limit_of_ten()
    {
        var options = new SqsClientTransportOptions { ServerRequestQueueUrl = Url, ResponseQueueUrl = Url };
        for (var i = 0; i < 4; i++)
        {
            options.MessageAttributes[$"Extra{i}"] = "v";
        }

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("SQS allows 10 per message", ex.Message, StringComparison.Ordinal);
        options.MessageAttributes.Remove("Extra3");
        options.Validate();
    }

    [Theory]
    [InlineData("SessionId")]
    [InlineData("MessageType")]
    [InlineData("ClientId")]
    public void Extra_message_attributes_may_not_override_the_wire_attributes(string name)
    {
        var options = new SqsClientTransportOptions { ServerRequestQueueUrl = Url, ResponseQueueUrl = Url };
        options.MessageAttributes[name] = "x";

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains($"may not set '{name}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_needs_both_queue_urls()
    {
        var ex = Assert.Throws<ArgumentException>(new SqsClientTransportOptions { ResponseQueueUrl = Url }.Validate);
        Assert.Contains("ServerRequestQueueUrl is required", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(new SqsClientTransportOptions { ServerRequestQueueUrl = Url }.Validate);
        Assert.Contains("ResponseQueueUrl is required", ex.Message, StringComparison.Ordinal);
    }
}
