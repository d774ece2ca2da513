using System.Runtime.CompilerServices;
using Amazon.SQS;
using AsyncMcp.Client;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// The reply queues this process reads, one <see cref="ReplyDemultiplexer"/> (one receive loop) per SQS client and
/// queue, shared by every connection that replies there and stopped when the last of them closes.
/// </summary>
internal static class SharedReplyQueues
{
    private static readonly ConditionalWeakTable<IAmazonSQS, Dictionary<string, Entry>> s_queues = new();
    private static readonly Lock s_gate = new();

    /// <summary>Subscribes a connection to the queue's demultiplexer, creating and starting it for the first one.</summary>
    /// <param name="sqs">The SQS client the connection uses.</param>
    /// <param name="key">The queue, with whatever else changes how it must be read (the S3 bucket of offloaded payloads).</param>
    /// <param name="create">Makes the demultiplexer when none is running.</param>
    /// <returns>The connection's lease: its subscription, released with it.</returns>
    public static Lease Acquire(IAmazonSQS sqs, string key, Func<ReplyDemultiplexer> create)
    {
        lock (s_gate)
        {
            var queues = s_queues.GetOrCreateValue(sqs);
            if (!queues.TryGetValue(key, out var entry) || entry.Demultiplexer.Completion.IsCompleted)
            {
                // A demultiplexer whose loop has ended (the queue was deleted, say) keeps failing its own subscribers;
                // a new connection gets a fresh one, which finds out for itself whether the queue is back.
                entry = new Entry(create());
                queues[key] = entry;
                entry.Demultiplexer.Start();
            }

            entry.Leases++;
            return new Lease(queues, key, entry, entry.Demultiplexer.Subscribe());
        }
    }

    /// <summary>How many demultiplexers are running for this client (for tests).</summary>
    internal static int CountFor(IAmazonSQS sqs)
    {
        lock (s_gate)
        {
            return s_queues.TryGetValue(sqs, out var queues) ? queues.Count : 0;
        }
    }

    internal sealed class Entry(ReplyDemultiplexer demultiplexer)
    {
        public ReplyDemultiplexer Demultiplexer { get; } = demultiplexer;

        public int Leases { get; set; }
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
            bool last;
            lock (s_gate)
            {
                last = --_entry.Leases == 0;
                if (last && _queues.TryGetValue(_key, out var current) && ReferenceEquals(current, _entry))
                {
                    _queues.Remove(_key);
                }
            }

            if (last)
            {
                await _entry.Demultiplexer.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
