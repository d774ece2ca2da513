using System.Runtime.CompilerServices;
using Amazon.SQS;
using AsyncMcp.Client;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// The reply queues this process reads, one <see cref="ReplyDemultiplexer"/> (one receive loop) per SQS client and
/// queue, shared by every connection that replies there. When the last of them closes, the loop stops polling but is
/// kept for a while (longer than a long poll) before it is disposed: a poll in flight then finishes instead of being
/// abandoned with a reply in it, and a connection that comes back meanwhile (a proxy whose sessions come and go)
/// reuses the loop.
/// </summary>
internal static class SharedReplyQueues
{
    private static readonly ConditionalWeakTable<IAmazonSQS, Dictionary<string, Entry>> s_queues = new();
    private static readonly Lock s_gate = new();

    /// <summary>Subscribes a connection to the queue's demultiplexer, creating and starting it for the first one.</summary>
    /// <param name="sqs">The SQS client the connection uses.</param>
    /// <param name="key">The queue, with whatever else changes how it must be read (the S3 bucket of offloaded payloads).</param>
    /// <param name="create">Makes the demultiplexer when none is running.</param>
    /// <param name="linger">How long an unused demultiplexer is kept before it is disposed.</param>
    /// <returns>The connection's lease: its subscription, released with it.</returns>
    public static Lease Acquire(IAmazonSQS sqs, string key, Func<ReplyDemultiplexer> create, TimeSpan linger)
    {
        lock (s_gate)
        {
            var queues = s_queues.GetOrCreateValue(sqs);
            if (!queues.TryGetValue(key, out var entry) || entry.Demultiplexer.Completion.IsCompleted)
            {
                // A demultiplexer whose loop has ended (the queue was deleted, say) keeps failing its own subscribers;
                // a new connection gets a fresh one, which finds out for itself whether the queue is back.
                entry = new Entry(create(), linger);
                queues[key] = entry;
                entry.Demultiplexer.Start();
            }

            entry.Leases++;
            return new Lease(queues, key, entry, entry.Demultiplexer.Subscribe());
        }
    }

    /// <summary>How many demultiplexers this client has, in use or lingering (for tests).</summary>
    internal static int CountFor(IAmazonSQS sqs)
    {
        lock (s_gate)
        {
            return s_queues.TryGetValue(sqs, out var queues) ? queues.Count : 0;
        }
    }

    /// <summary>How many connections hold this client's demultiplexers (for tests).</summary>
    internal static int LeasesFor(IAmazonSQS sqs)
    {
        lock (s_gate)
        {
            return s_queues.TryGetValue(sqs, out var queues) ? queues.Values.Sum(e => e.Leases) : 0;
        }
    }

    private static async Task RetireWhenUnusedAsync(Dictionary<string, Entry> queues, string key, Entry entry, int idleSince)
    {
        await Task.Delay(entry.Linger).ConfigureAwait(false);
        lock (s_gate)
        {
            // In use again, or unused since later than this retirement was planned for: a later one decides.
            if (entry.Leases > 0 || entry.IdleCount != idleSince)
            {
                return;
            }

            if (queues.TryGetValue(key, out var current) && ReferenceEquals(current, entry))
            {
                queues.Remove(key);
            }
        }

        await entry.Demultiplexer.DisposeAsync().ConfigureAwait(false);
    }

    internal sealed class Entry(ReplyDemultiplexer demultiplexer, TimeSpan linger)
    {
        public ReplyDemultiplexer Demultiplexer { get; } = demultiplexer;

        public TimeSpan Linger { get; } = linger;

        public int Leases { get; set; }

        /// <summary>How many times the last lease has left.</summary>
        public int IdleCount { get; set; }
    }

    /// <summary>One connection's hold on a shared reply queue.</summary>
    internal sealed class Lease : IAsyncDisposable
    {
        private readonly Dictionary<string, Entry> _queues;
        private readonly string _key;
        private readonly Entry _entry;
        private int _disposed;

        public Lease(Dictionary<string, Entry> queues, string key, Entry entry, ReplySubscription subscription)
        {
            _queues = queues;
            _key = key;
            _entry = entry;
            Subscription = subscription;
        }

        public ReplySubscription Subscription { get; }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            await Subscription.DisposeAsync().ConfigureAwait(false);
            int? idleSince = null;
            lock (s_gate)
            {
                if (--_entry.Leases == 0)
                {
                    idleSince = ++_entry.IdleCount;
                }
            }

            if (idleSince is { } since)
            {
                // Never awaited by the connection: its disposal is not held up by the linger.
                _ = RetireWhenUnusedAsync(_queues, _key, _entry, since);
            }
        }
    }
}
