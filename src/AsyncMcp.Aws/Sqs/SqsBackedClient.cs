using Amazon.SQS;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Connects a client transport that receives replies from an SQS queue: checks the queue exists (failing at once,
/// naming the option, rather than leaving the first request waiting for a reply that cannot arrive), then starts
/// the session transport. The public transports differ only in where requests go.
/// </summary>
internal static class SqsBackedClient
{
    public static async Task<ITransport> ConnectAsync(
        IAmazonSQS sqs,
        SqsBackedClientTransportOptions options,
        string replyQueueUrl,
        string replyQueueOptionName,
        IMessageSink sink,
        string serverAddress,
        string replyAddress,
        ReplyAddressConvention convention,
        string messagingSystem,
        S3PayloadStore? payloads,
        ILoggerFactory? loggerFactory,
        CancellationToken cancellationToken)
    {
        await SqsQueueCheck.EnsureExistsAsync(sqs, replyQueueUrl, replyQueueOptionName, cancellationToken).ConfigureAwait(false);

        SqsReplyQueueSource CreateSource() => new(
            sqs,
            replyQueueUrl,
            new SqsMessageSource(sqs, replyQueueUrl, options.WaitTime, options.VisibilityTimeout, payloads, loggerFactory?.CreateLogger<SqsMessageSource>()),
            loggerFactory?.CreateLogger<SqsReplyQueueSource>());

        // Connections of this process that reply to the same queue through the same SQS client share one receive
        // loop, which hands each reply to its connection: no connection takes, and hands back, another's replies.
        SharedReplyQueues.Lease? lease = null;
        if (options.ShareReplyQueue)
        {
            var key = replyQueueUrl + "|" + (options.LargePayloads?.BucketName ?? string.Empty);
            lease = SharedReplyQueues.Acquire(
                sqs,
                key,
                () => new ReplyDemultiplexer(CreateSource(), options.ReceiveBatchSize, SqsErrors.IsFatalForClient, loggerFactory),
                options.WaitTime + TimeSpan.FromSeconds(10));
        }

        AsyncMcpClientSessionTransport transport;
        try
        {
            transport = new AsyncMcpClientSessionTransport(
                options.Name,
                lease is null ? new PolledReplyFeed(CreateSource(), options.ReceiveBatchSize, SqsErrors.IsFatalForClient, loggerFactory) : lease.Subscription,
                sink,
                serverAddress,
                replyAddress,
                convention,
                options,
                loggerFactory,
                messagingSystem)
            {
                OwnedResources = lease,
            };
        }
        catch
        {
            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        transport.Start();
        return transport;
    }
}
