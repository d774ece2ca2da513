using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// What every server transport that receives from an SQS queue shares: the queue source, the optional S3 claim
/// check, the start-up check of the queue (and of its redrive policy), and ordered shutdown. The public transports
/// differ only in where replies go (an SQS queue, an SNS topic).
/// </summary>
internal sealed partial class SqsBackedServer : IAsyncDisposable
{
    private readonly IAmazonSQS _sqs;
    private readonly SqsBackedServerTransportOptions _options;
    private readonly string _queueUrl;
    private readonly string _queueOptionName;
    private readonly S3PayloadStore? _payloads;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly ILogger _logger;
    private readonly Func<bool, int?, IMessageSource?, ISessionPlacement?, McpQueueServer> _create;
    private McpQueueServer? _server;
    private WorkerQueue? _own;
    private SqsSessionPlacement? _placement;
    private AbandonedWorkerQueues? _collector;
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
        _options = options;
        _queueUrl = queueUrl;
        _queueOptionName = queueOptionName;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory?.CreateLogger<SqsBackedServer>() ?? NullLogger<SqsBackedServer>.Instance;
        _payloads = LargePayloadStore.Create(options.LargePayloads, s3, options.GetType().Name);
        var source = Open(queueUrl);
        var sink = createSink(_payloads);

        // What the queue is (whether it has a dead-letter queue) is known only once it has been looked at.
        HealthProbe = new SqsServerHealthProbe(sqs, messagingSystem, queueUrl, () => _server);
        _create = (deadLetters, maxReceiveCount, own, placement) => new McpQueueServer(source, sink, convention, options, options.ReceiveBatchSize, serverOptions, deadLetters, messagingSystem, loggerFactory, services, ownSource: own, placement: placement, maxReceiveCount: maxReceiveCount);
    }

    /// <summary>What the health check asks.</summary>
    public Diagnostics.IServerHealthProbe HealthProbe { get; }

    /// <summary>The dispatcher, once started.</summary>
    public MessageDispatcher? Dispatcher => _server?.Dispatcher;

    /// <summary>This worker's id when it is one of several on the queue, once started.</summary>
    public string? WorkerId => _own?.WorkerId;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var attributes = await SqsQueueCheck.EnsureExistsAsync(_sqs, _queueUrl, _queueOptionName, cancellationToken).ConfigureAwait(false);
        IMessageSource? ownSource = null;
        WorkerLeases? leases = null;
        if (_options.Workers.Enabled)
        {
            var workerId = _options.Workers.WorkerId ?? WorkerNames.NewWorkerId();
            _own = new WorkerQueue(_sqs, _queueUrl, workerId, _options.Workers.LeaseDuration, _options.VisibilityTimeout, logger: _loggerFactory?.CreateLogger<WorkerQueue>());
            await _own.CreateAsync(_options.GetType().Name, cancellationToken).ConfigureAwait(false);
            leases = new WorkerLeases(_sqs, _queueUrl, LeaseCacheLifetime, TimeProvider.System);
            _placement = new SqsSessionPlacement(_sqs, _own, leases, _loggerFactory?.CreateLogger<SqsSessionPlacement>());
            ownSource = OpenWorkerQueue(_own.Url, _options.WaitTime);
        }

        // With a dead-letter queue, input that can be neither processed nor answered goes there intact instead of being deleted.
        var server = _create(attributes.ContainsKey("RedrivePolicy"), RedrivePolicy.Read(attributes)?.MaxReceiveCount, ownSource, _placement);
        _server = server;
        server.Start();
        if (_own is not null && leases is not null)
        {
            _collector = new AbandonedWorkerQueues(_sqs, _queueUrl, _own.Url, leases, OpenForSweep, server.Dispatcher, _options.Workers.LeaseDuration, _options.VisibilityTimeout, logger: _loggerFactory?.CreateLogger<AbandonedWorkerQueues>());
            _collector.Start();
        }
    }

    /// <summary>
    /// Stops serving: no new sessions or requests, requests in flight drained, sessions closed (clients that understand it
    /// are told); then, for one of several workers, what is left in its own queue is answered as lost sessions and the
    /// queue is deleted. Never throws.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is { } server)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            if (_own is not null && _placement is not null)
            {
                _placement.Stopping();
                await _own.EndLeaseAsync().ConfigureAwait(false);
                try
                {
                    await WorkerQueueSweep.SweepAsync(_sqs, OpenForSweep(_own.Url), server.Dispatcher, _options.ShutdownDrainTimeout + TimeSpan.FromSeconds(5), _logger, CancellationToken.None, quiet: LeaseCacheLifetime + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    LogSweepFailed(_own.Url, ex);
                }
            }
        }

        if (_own is not null)
        {
            await _own.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How long a worker trusts a lease it has read before reading it again.</summary>
    private TimeSpan LeaseCacheLifetime => TimeSpan.FromSeconds(Math.Min(2, _options.Workers.LeaseDuration.TotalSeconds / 4));

    private SqsMessageSource Open(string queueUrl) => Open(queueUrl, _options.WaitTime);

    private SqsMessageSource Open(string queueUrl, TimeSpan waitTime) =>
        new(_sqs, queueUrl, waitTime, _options.VisibilityTimeout, _payloads, _loggerFactory?.CreateLogger<SqsMessageSource>());

    /// <summary>A worker queue to sweep: polled a second at a time, since the sweep looks at the queue between receives.</summary>
    private SqsReplyQueueSource OpenForSweep(string queueUrl) => OpenWorkerQueue(queueUrl, TimeSpan.FromSeconds(1));

    /// <summary>
    /// A worker queue, whose long poll is ended cleanly at stop: a poll abandoned by cancellation would go on taking the
    /// session's next message, which would then stay invisible to the sweep that answers what is left, and be deleted
    /// with the queue unanswered.
    /// </summary>
    private SqsReplyQueueSource OpenWorkerQueue(string queueUrl, TimeSpan waitTime) =>
        new(_sqs, queueUrl, Open(queueUrl, waitTime), _loggerFactory?.CreateLogger<SqsReplyQueueSource>());

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answering what was left in own queue {QueueUrl} failed; the queue is deleted anyway.")]
    private partial void LogSweepFailed(string queueUrl, Exception exception);
}
