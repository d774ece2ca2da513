using System.Text.Json;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Aws.SnsSqs;

/// <summary>A queue subscribed to a topic.</summary>
/// <param name="TopicArn">The topic.</param>
/// <param name="Queue">The subscribed queue.</param>
/// <param name="SubscriptionArn">The subscription.</param>
public sealed record SnsSqsSubscription(string TopicArn, SqsQueueInfo Queue, string SubscriptionArn);

/// <summary>How a queue subscribes to a topic.</summary>
public sealed class SnsSqsSubscriptionSettings
{
    /// <summary>Deliver the bare message with its attributes as SQS attributes (true, default) or inside the SNS JSON envelope (false). AsyncMcp reads both.</summary>
    public bool RawMessageDelivery { get; set; } = true;

    /// <summary>An SNS filter policy (JSON) on message attributes, for example <c>{"Method":["tools/call"]}</c>; <see langword="null"/> (default) receives everything.</summary>
    public string? FilterPolicy { get; set; }

    /// <summary>How to create the queue.</summary>
    public SqsQueueSettings Queue { get; set; } = new();
}

/// <summary>
/// Creates what an SNS+SQS deployment needs: topics, queues (with dead-letter queues if asked), the queue policies
/// that let a topic deliver to its queues, and the subscriptions (raw or enveloped, with filter policies).
/// Everything is created only if missing, so provisioning can run on every start.
/// </summary>
public sealed class SnsSqsProvisioner(IAmazonSQS sqs, ISnsClient sns)
{
    /// <summary>Creates a topic if it does not exist; a name ending in <c>.fifo</c> makes a FIFO topic.</summary>
    /// <param name="name">The topic name.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The topic ARN.</returns>
    public Task<string> EnsureTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var attributes = name.EndsWith(".fifo", StringComparison.Ordinal)
            ? new Dictionary<string, string> { ["FifoTopic"] = "true" }
            : null;
        return sns.CreateTopicAsync(name, attributes, cancellationToken);
    }

    /// <summary>Creates a queue, allows the topic to deliver to it, and subscribes it to the topic.</summary>
    /// <param name="topicArn">The topic.</param>
    /// <param name="queueName">The queue name.</param>
    /// <param name="settings">Delivery form, filter policy and queue settings; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The queue and subscription.</returns>
    public async Task<SnsSqsSubscription> EnsureSubscribedQueueAsync(string topicArn, string queueName, SnsSqsSubscriptionSettings? settings = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topicArn);
        settings ??= new SnsSqsSubscriptionSettings();
        var queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(queueName, settings.Queue, cancellationToken).ConfigureAwait(false);

        // Least privilege: only this topic may send to this queue.
        var policy = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Version"] = "2012-10-17",
            ["Statement"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["Sid"] = "AllowTopicToDeliver",
                    ["Effect"] = "Allow",
                    ["Principal"] = new Dictionary<string, string> { ["Service"] = "sns.amazonaws.com" },
                    ["Action"] = "sqs:SendMessage",
                    ["Resource"] = queue.QueueArn,
                    ["Condition"] = new Dictionary<string, object> { ["ArnEquals"] = new Dictionary<string, string> { ["aws:SourceArn"] = topicArn } },
                },
            },
        });
        await sqs.SetQueueAttributesAsync(new SetQueueAttributesRequest { QueueUrl = queue.QueueUrl, Attributes = new() { ["Policy"] = policy } }, cancellationToken).ConfigureAwait(false);

        var attributes = new Dictionary<string, string> { ["RawMessageDelivery"] = settings.RawMessageDelivery ? "true" : "false" };
        if (settings.FilterPolicy is { } filter)
        {
            attributes["FilterPolicy"] = filter;
        }

        var subscriptionArn = await sns.SubscribeAsync(topicArn, "sqs", queue.QueueArn, attributes, cancellationToken).ConfigureAwait(false);
        return new SnsSqsSubscription(topicArn, queue, subscriptionArn);
    }
}
