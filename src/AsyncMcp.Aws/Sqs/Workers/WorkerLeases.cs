using System.Collections.Concurrent;
using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Tells whether another worker is alive, by the lease on its queue (read for a short while from a cache, so handing
/// over a session's messages costs no extra call per message).
/// </summary>
internal sealed class WorkerLeases(IAmazonSQS sqs, string requestQueueUrl, TimeSpan cacheFor, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (bool Alive, DateTimeOffset Until)> _known = new(StringComparer.Ordinal);

    /// <summary>Whether the worker's queue exists and its lease has not run out.</summary>
    public async Task<bool> IsAliveAsync(string workerId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_known.TryGetValue(workerId, out var known) && known.Until > now)
        {
            return known.Alive;
        }

        var alive = await ReadAsync(WorkerNames.WorkerQueueUrl(requestQueueUrl, workerId), now, cancellationToken).ConfigureAwait(false);
        _known[workerId] = (alive, now + cacheFor);
        return alive;
    }

    /// <summary>Forgets what is known of a worker (its queue turned out to be gone).</summary>
    public void Forget(string workerId) => _known[workerId] = (false, time.GetUtcNow() + cacheFor);

    /// <summary>Whether a worker queue exists and its lease, read now, has not run out.</summary>
    public async Task<bool> ReadAsync(string workerQueueUrl, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await ReadLeaseAsync(workerQueueUrl, cancellationToken).ConfigureAwait(false)) is { } lease && lease.Expires > now;

    /// <summary>
    /// A queue's worker lease: the worker it names and when its lease ends; <see langword="null"/> when the queue is gone,
    /// or is not a worker queue of this request queue (tags are what tell, never the name alone).
    /// </summary>
    public async Task<(string WorkerId, DateTimeOffset Expires)?> ReadLeaseAsync(string workerQueueUrl, CancellationToken cancellationToken)
    {
        Dictionary<string, string>? tags;
        try
        {
            tags = (await sqs.ListQueueTagsAsync(new ListQueueTagsRequest { QueueUrl = workerQueueUrl }, cancellationToken).ConfigureAwait(false)).Tags;
        }
        catch (Exception ex) when (SqsErrors.IsFatalForClient(ex))
        {
            return null;
        }

        return tags is not null &&
            tags.TryGetValue(WorkerNames.WorkerTag, out var workerId) &&
            tags.TryGetValue(WorkerNames.RequestQueueTag, out var requestQueue) &&
            requestQueue == WorkerNames.QueueName(requestQueueUrl) &&
            tags.TryGetValue(WorkerNames.LeaseTag, out var text) &&
            long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? (workerId, DateTimeOffset.FromUnixTimeSeconds(seconds))
            : null;
    }
}
