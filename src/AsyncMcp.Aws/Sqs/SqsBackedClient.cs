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

        var transport = new AsyncMcpClientSessionTransport(
            options.Name,
            new SqsMessageSource(sqs, replyQueueUrl, options.WaitTime, options.VisibilityTimeout, payloads, loggerFactory?.CreateLogger<SqsMessageSource>()),
            sink,
            serverAddress,
            replyAddress,
            convention,
            options,
            options.ReceiveBatchSize,
            SqsErrors.IsFatalForClient,
            loggerFactory,
            messagingSystem);
        transport.Start();
        return transport;
    }
}
