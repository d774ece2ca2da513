using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Removes what crashed workers left behind: every half lease, lists the worker queues of this request queue and sweeps
/// (then deletes) each whose lease has run out, so the clients of its sessions hear at once that they were lost.
/// A queue counts as a worker queue only by its tags.
/// </summary>
internal sealed partial class AbandonedWorkerQueues : IAsyncDisposable
{
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(2);
    private readonly IAmazonSQS _sqs;
    private readonly string _requestQueueUrl;
    private readonly string _ownQueueUrl;
    private readonly WorkerLeases _leases;
    private readonly Func<string, Messaging.IMessageSource> _open;
    private readonly MessageDispatcher _dispatcher;
    private readonly TimeSpan _period;
    private readonly TimeSpan _sweepDeadline;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    public AbandonedWorkerQueues(IAmazonSQS sqs, string requestQueueUrl, string ownQueueUrl, WorkerLeases leases, Func<string, Messaging.IMessageSource> open, MessageDispatcher dispatcher, TimeSpan lease, TimeSpan visibilityTimeout, TimeProvider? time = null, ILogger? logger = null)
    {
        _sqs = sqs;
        _requestQueueUrl = requestQueueUrl;
        _ownQueueUrl = ownQueueUrl;
        _leases = leases;
        _open = open;
        _dispatcher = dispatcher;
        _period = lease / 2;
        _sweepDeadline = visibilityTimeout + TimeSpan.FromSeconds(10);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public void Start() => _loop = RunAsync(_stopping.Token);

    /// <summary>One pass: sweeps every worker queue of this request queue whose lease has run out. Returns how many.</summary>
    public async Task<int> CollectOnceAsync(CancellationToken cancellationToken)
    {
        var listed = await _sqs.ListQueuesAsync(new ListQueuesRequest { QueueNamePrefix = WorkerNames.Prefix(WorkerNames.QueueName(_requestQueueUrl)) }, cancellationToken).ConfigureAwait(false);
        var swept = 0;
        foreach (var url in listed.QueueUrls ?? [])
        {
            if (WorkerNames.QueueName(url) == WorkerNames.QueueName(_ownQueueUrl))
            {
                continue;
            }

            if (await _leases.ReadLeaseAsync(url, cancellationToken).ConfigureAwait(false) is not { } lease || lease.Expires + s_grace > _time.GetUtcNow())
            {
                continue;
            }

            LogCollecting(lease.WorkerId, url);
            _leases.Forget(lease.WorkerId);
            await WorkerQueueSweep.SweepAsync(_sqs, _open(url), _dispatcher, _sweepDeadline, _logger, cancellationToken).ConfigureAwait(false);
            swept++;
        }

        return swept;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                try
                {
                    await CollectOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    LogFailed(ex);
                }

                await Task.Delay(_period, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId} is gone (its lease ran out); its queue {QueueUrl} is swept and deleted, and its sessions' clients are told they were lost.")]
    private partial void LogCollecting(string workerId, string queueUrl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for the queues of gone workers failed; trying again later.")]
    private partial void LogFailed(Exception exception);
}
