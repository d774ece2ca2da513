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
    private readonly Func<bool, McpQueueServer> _create;
    private McpQueueServer? _server;
    private int _disposed;

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
        var source = new SqsMessageSource(sqs, queueUrl, options.WaitTime, options.VisibilityTimeout, payloads, loggerFactory?.CreateLogger<SqsMessageSource>());
        var sink = createSink(payloads);

        // What the queue is (whether it has a dead-letter queue) is known only once it has been looked at.
        _create = deadLetters => new McpQueueServer(source, sink, convention, options, options.ReceiveBatchSize, serverOptions, deadLetters, messagingSystem, loggerFactory, services);
    }

    /// <summary>The dispatcher, once started.</summary>
    public MessageDispatcher? Dispatcher => _server?.Dispatcher;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var attributes = await SqsQueueCheck.EnsureExistsAsync(_sqs, _queueUrl, _queueOptionName, cancellationToken).ConfigureAwait(false);

        // With a dead-letter queue, input that can be neither processed nor answered goes there intact instead of being deleted.
        var server = _create(attributes.ContainsKey("RedrivePolicy"));
        if (Interlocked.CompareExchange(ref _server, server, null) is not null)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            return;
        }

        server.Start();
    }

    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 && _server is { } server ? server.DisposeAsync() : ValueTask.CompletedTask;
}
