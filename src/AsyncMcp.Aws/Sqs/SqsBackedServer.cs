using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// What every server transport that receives from an SQS queue shares: the queue source, the optional S3 claim
/// check, the start-up check of the queue (and of its redrive policy), and ordered shutdown. The public transports
/// differ only in where replies go (an SQS queue, an SNS topic).
/// </summary>
internal sealed class SqsBackedServer : IAsyncDisposable
{
    private readonly IAmazonSQS _sqs;
    private readonly string _queueUrl;
    private readonly string _queueOptionName;
    private readonly McpQueueServer _server;

    public SqsBackedServer(
        IAmazonSQS sqs,
        SqsBackedServerTransportOptions options,
        string queueUrl,
        string queueOptionName,
        Func<S3PayloadStore?, IMessageSink> createSink,
        ReplyAddressConvention convention,
        string messagingSystem,
        McpServerOptions serverOptions,
        ILoggerFactory? loggerFactory,
        IServiceProvider? services,
        IAmazonS3? s3)
    {
        _sqs = sqs;
        _queueUrl = queueUrl;
        _queueOptionName = queueOptionName;
        var payloads = LargePayloadStore.Create(options.LargePayloads, s3, options.GetType().Name);
        _server = new McpQueueServer(
            new SqsMessageSource(sqs, queueUrl, options.WaitTime, options.VisibilityTimeout, payloads, loggerFactory?.CreateLogger<SqsMessageSource>()),
            createSink(payloads),
            convention,
            options,
            options.ReceiveBatchSize,
            serverOptions,
            loggerFactory,
            services,
            messagingSystem: messagingSystem);
    }

    public McpSessionRouter Router => _server.Router;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var attributes = await SqsQueueCheck.EnsureExistsAsync(_sqs, _queueUrl, _queueOptionName, cancellationToken).ConfigureAwait(false);

        // With a dead-letter queue, input that can be neither processed nor answered goes there intact instead of being deleted.
        _server.Router.LeaveUnprocessableToRedrive = attributes.ContainsKey("RedrivePolicy");
        _server.Start();
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
