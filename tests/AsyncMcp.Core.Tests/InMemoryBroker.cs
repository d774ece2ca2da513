using System.Collections.Concurrent;
using System.Threading.Channels;
using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>
/// A broker in memory with a queue per address, behaving as SQS does where the core relies on it: a received message
/// is held (invisible) until it is completed, a released one is visible again with its receive count raised.
/// </summary>
internal sealed class InMemoryBroker : IMessageSink
{
    private readonly ConcurrentDictionary<string, InMemoryQueue> _queues = new(StringComparer.Ordinal);

    /// <summary>The queue at an address, created on first use.</summary>
    public InMemoryQueue Queue(string address) => _queues.GetOrAdd(address, a => new InMemoryQueue(a));

    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        Queue(address).Enqueue(message.Body, message.Attributes);
        return Task.CompletedTask;
    }
}

/// <summary>One queue of an <see cref="InMemoryBroker"/>; a long poll waits until a message is visible or it is cancelled.</summary>
internal sealed class InMemoryQueue(string address) : IMessageSource
{
    private readonly Channel<InMemoryMessage> _visible = Channel.CreateUnbounded<InMemoryMessage>();
    private int _visibleCount;
    private int _unsettledCount;

    public string Description => address;

    public TimeSpan LeaseDuration => TimeSpan.FromSeconds(30);

    /// <summary>The messages waiting to be received.</summary>
    public int VisibleCount => Volatile.Read(ref _visibleCount);

    /// <summary>The messages waiting to be received or received and not yet completed.</summary>
    public int UnsettledCount => Volatile.Read(ref _unsettledCount);

    public void Enqueue(string body, IReadOnlyDictionary<string, string> attributes)
    {
        Interlocked.Increment(ref _unsettledCount);
        MakeVisible(new InMemoryMessage(this, Guid.NewGuid().ToString("N"), body, attributes, ReceiveCount: 0));
    }

    internal void Settled() => Interlocked.Decrement(ref _unsettledCount);

    public async Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken)
    {
        var batch = new List<IInboundMessage>();
        while (batch.Count == 0 && await _visible.Reader.WaitToReadAsync(cancellationToken))
        {
            while (batch.Count < maxMessages && _visible.Reader.TryRead(out var message))
            {
                Interlocked.Decrement(ref _visibleCount);
                batch.Add(message with { ReceiveCount = message.ReceiveCount + 1 });
            }
        }

        return batch;
    }

    internal void MakeVisible(InMemoryMessage message)
    {
        Interlocked.Increment(ref _visibleCount);
        _visible.Writer.TryWrite(message);
    }
}

/// <summary>A message received from an <see cref="InMemoryQueue"/>: completing settles it, releasing puts it back.</summary>
internal sealed record InMemoryMessage(InMemoryQueue Queue, string MessageId, string Body, IReadOnlyDictionary<string, string> Attributes, int ReceiveCount) : IInboundMessage
{
    public Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        Queue.Settled();
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        Queue.MakeVisible(this);
        return Task.CompletedTask;
    }

    public Task<bool> ExtendAsync(TimeSpan duration, CancellationToken cancellationToken = default) => Task.FromResult(true);
}
