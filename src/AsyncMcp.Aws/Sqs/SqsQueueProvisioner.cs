using System.Globalization;
using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Aws.Sqs;

/// <summary>How to create one queue.</summary>
public sealed class SqsQueueSettings
{
    /// <summary>The default visibility timeout. Default 30 seconds.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long unreceived messages are kept. Default 4 days (the SQS default).</summary>
    public TimeSpan MessageRetention { get; set; } = TimeSpan.FromDays(4);

    /// <summary>The largest message the queue accepts, in bytes; <see langword="null"/> (default) keeps the SQS default.</summary>
    public int? MaximumMessageSize { get; set; }

    /// <summary>
    /// When <see langword="true"/>, a queue that already exists is used as it is (its attributes untouched) instead of
    /// being created again with these settings, which SQS refuses when they differ (a queue provisioned with a longer
    /// visibility timeout, say). Default <see langword="false"/>: provisioning states the settings it wants.
    /// </summary>
    public bool KeepExisting { get; set; }

    /// <summary>
    /// When set, a dead-letter queue named <c>&lt;name&gt;-dlq</c> is created and messages received this many times
    /// without being deleted move there. Default <see langword="null"/> (no dead-letter queue).
    /// </summary>
    public int? MaxReceiveCount { get; set; }
}

/// <summary>The queues of one AsyncMcp SQS deployment.</summary>
/// <param name="QueueUrl">The queue's URL.</param>
/// <param name="QueueArn">The queue's ARN.</param>
/// <param name="DeadLetterQueueUrl">The dead-letter queue's URL, if one was created.</param>
public sealed record SqsQueueInfo(string QueueUrl, string QueueArn, string? DeadLetterQueueUrl);

/// <summary>
/// Creates the queues an AsyncMcp SQS deployment needs: the server's request queue and the clients' response
/// queues, each optionally with a dead-letter queue and redrive policy. Creating a queue that already exists with
/// the same settings is harmless, so provisioning can run on every start.
/// </summary>
public sealed class SqsQueueProvisioner(IAmazonSQS sqs)
{
    /// <summary>Creates a queue (and its dead-letter queue) if it does not exist.</summary>
    /// <param name="name">The queue name; end it in <c>.fifo</c> for a FIFO queue.</param>
    /// <param name="settings">How to create it; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The queue's URL and ARN.</returns>
    public async Task<SqsQueueInfo> EnsureQueueAsync(string name, SqsQueueSettings? settings = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        settings ??= new SqsQueueSettings();
        if (settings.KeepExisting && await FindAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var fifo = name.EndsWith(".fifo", StringComparison.Ordinal);

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["VisibilityTimeout"] = ((int)settings.VisibilityTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["MessageRetentionPeriod"] = ((int)settings.MessageRetention.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        };
        if (settings.MaximumMessageSize is { } maxSize)
        {
            attributes["MaximumMessageSize"] = maxSize.ToString(CultureInfo.InvariantCulture);
        }

        if (fifo)
        {
            attributes["FifoQueue"] = "true";
        }

        string? deadLetterUrl = null;
        if (settings.MaxReceiveCount is { } maxReceiveCount)
        {
            var deadLetterName = fifo ? name[..^".fifo".Length] + "-dlq.fifo" : name + "-dlq";
            var deadLetter = await EnsureQueueAsync(deadLetterName, new SqsQueueSettings { MessageRetention = TimeSpan.FromDays(14) }, cancellationToken).ConfigureAwait(false);
            deadLetterUrl = deadLetter.QueueUrl;
            attributes["RedrivePolicy"] = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["deadLetterTargetArn"] = deadLetter.QueueArn,
                ["maxReceiveCount"] = maxReceiveCount.ToString(CultureInfo.InvariantCulture),
            });
        }

        var created = await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = name, Attributes = attributes }, cancellationToken).ConfigureAwait(false);
        var arn = await sqs.GetQueueAttributesAsync(
            new GetQueueAttributesRequest { QueueUrl = created.QueueUrl, AttributeNames = ["QueueArn"] },
            cancellationToken).ConfigureAwait(false);
        return new SqsQueueInfo(created.QueueUrl, arn.Attributes["QueueArn"], deadLetterUrl);
    }

    private async Task<SqsQueueInfo?> FindAsync(string name, CancellationToken cancellationToken)
    {
        string url;
        try
        {
            url = (await sqs.GetQueueUrlAsync(name, cancellationToken).ConfigureAwait(false)).QueueUrl;
        }
        catch (QueueDoesNotExistException)
        {
            return null;
        }

        var arn = await sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = url, AttributeNames = ["QueueArn"] }, cancellationToken).ConfigureAwait(false);
        return new SqsQueueInfo(url, arn.Attributes["QueueArn"], DeadLetterQueueUrl: null);
    }
}
