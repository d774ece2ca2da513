using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// This worker's own queue, beside the request queue: created at start with tags that name the worker and the request
/// queue and hold the worker's lease, which is renewed every third of its duration while the worker runs; deleted on a
/// clean stop. A worker that stops renewing (it crashed) is taken for gone by the others once the lease has run out.
/// </summary>
internal sealed partial class WorkerQueue : IAsyncDisposable
{
    private readonly IAmazonSQS _sqs;
    private readonly string _requestQueueUrl;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _visibilityTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _renewals = Task.CompletedTask;
    private int _disposed;

    public WorkerQueue(IAmazonSQS sqs, string requestQueueUrl, string workerId, TimeSpan lease, TimeSpan visibilityTimeout, TimeProvider? time = null, ILogger? logger = null)
    {
        _sqs = sqs;
        _requestQueueUrl = requestQueueUrl;
        WorkerId = workerId;
        _lease = lease;
        _visibilityTimeout = visibilityTimeout;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Url = WorkerNames.WorkerQueueUrl(requestQueueUrl, workerId);
    }

    public string WorkerId { get; }

    /// <summary>The request queue this worker serves, beside which every worker queue of it lives.</summary>
    public string RequestQueueUrl => _requestQueueUrl;

    /// <summary>The queue's URL (known before it is created: it is derived from the request queue's).</summary>
    public string Url { get; private set; }

    /// <summary>Creates the queue with its lease and starts renewing the lease.</summary>
    /// <exception cref="AsyncMcpTransportException">The queue cannot be created (permissions, say); the message names the option that turns workers off.</exception>
    public async Task CreateAsync(string optionName, CancellationToken cancellationToken)
    {
        var requestName = WorkerNames.QueueName(_requestQueueUrl);
        var name = WorkerNames.WorkerQueueName(requestName, WorkerId);
        var attributes = new Dictionary<string, string>
        {
            ["VisibilityTimeout"] = ((int)Math.Ceiling(_visibilityTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
            ["MessageRetentionPeriod"] = "3600",
        };
        if (WorkerNames.IsFifo(name))
        {
            attributes["FifoQueue"] = "true";
            attributes["ContentBasedDeduplication"] = "false";
        }

        try
        {
            var created = await _sqs.CreateQueueAsync(
                new CreateQueueRequest { QueueName = name, Attributes = attributes, Tags = Tags(requestName) },
                cancellationToken).ConfigureAwait(false);
            Url = created.QueueUrl ?? Url;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new AsyncMcpTransportException(
                $"This server's own queue '{name}' (one of several workers on the request queue) cannot be created: {ex.Message}. Allow sqs:CreateQueue and sqs:TagQueue on it (see docs/deployment.md), or set {optionName}.Workers.Enabled = false to run a single server on the queue.",
                SqsErrors.IsTransient(ex),
                ex);
        }

        LogCreated(Url, WorkerId, _lease.TotalSeconds);
        _renewals = RenewAsync(_stopping.Token);
    }

    /// <summary>
    /// Ends the lease at once (a stopping worker): the other workers stop handing messages over to this queue within
    /// their lease cache's lifetime and answer them as lost sessions instead, so the queue can be emptied for good.
    /// Never throws; if the tag cannot be written the lease simply runs out.
    /// </summary>
    public async Task EndLeaseAsync()
    {
        await StopRenewingAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _sqs.TagQueueAsync(new TagQueueRequest { QueueUrl = Url, Tags = new() { [WorkerNames.LeaseTag] = "0" } }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRenewalFailed(Url, ex);
        }
    }

    /// <summary>Stops renewing the lease and deletes the queue (what is left in it was answered by the caller). Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopRenewingAsync().ConfigureAwait(false);
        _stopping.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _sqs.DeleteQueueAsync(new DeleteQueueRequest { QueueUrl = Url }, timeout.Token).ConfigureAwait(false);
            LogDeleted(Url);
        }
        catch (Exception ex) when (SqsErrors.IsFatalForClient(ex))
        {
            // The sweep at stop deletes the queue once it has answered what was left in it.
            LogDeleted(Url);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Left behind: the other workers remove it once its lease has run out.
            LogDeleteFailed(Url, ex);
        }
    }

    private async Task StopRenewingAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _renewals.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private Dictionary<string, string> Tags(string requestName) => new()
    {
        [WorkerNames.WorkerTag] = WorkerId,
        [WorkerNames.RequestQueueTag] = requestName,
        [WorkerNames.LeaseTag] = LeaseEnd(),
    };

    private string LeaseEnd() => (_time.GetUtcNow() + _lease).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_lease / 3, _time, cancellationToken).ConfigureAwait(false);
                try
                {
                    await _sqs.TagQueueAsync(new TagQueueRequest { QueueUrl = Url, Tags = new() { [WorkerNames.LeaseTag] = LeaseEnd() } }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
                {
                    // Two more tries before the lease runs out.
                    LogRenewalFailed(Url, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId}: own queue {QueueUrl} ready; lease {LeaseSeconds:F0} s, renewed every third.")]
    private partial void LogCreated(string queueUrl, string workerId, double leaseSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Own queue {QueueUrl} deleted.")]
    private partial void LogDeleted(string queueUrl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting own queue {QueueUrl} failed; the other workers remove it once its lease has run out.")]
    private partial void LogDeleteFailed(string queueUrl, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease of {QueueUrl} failed; trying again.")]
    private partial void LogRenewalFailed(string queueUrl, Exception exception);
}
