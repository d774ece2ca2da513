using System.Collections.Concurrent;
using System.Threading.Channels;
using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>An in-memory broker message that records what was done with it.</summary>
internal sealed class FakeInboundMessage(string body, Dictionary<string, string>? attributes = null, string? messageId = null) : IInboundMessage
{
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string MessageId { get; } = messageId ?? Guid.NewGuid().ToString("N");

    public string Body { get; } = body;

    public IReadOnlyDictionary<string, string> Attributes { get; } = attributes ?? [];

    public int ReceiveCount => 1;

    public int Completions;
    public int Releases;
    public int Extensions;

    public Task WhenCompleted => _completed.Task;

    public Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Completions);
        _completed.TrySetResult();
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Releases);
        return Task.CompletedTask;
    }

    public Task<bool> ExtendAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Extensions);
        return Task.FromResult(true);
    }
}

/// <summary>Records every message sent; can be told to fail.</summary>
internal sealed class FakeSink : IMessageSink
{
    public Channel<(string Address, OutboundMessage Message)> Sent { get; } = Channel.CreateUnbounded<(string, OutboundMessage)>();

    public Func<OutboundMessage, Exception?> Fail { get; set; } = _ => null;

    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        if (Fail(message) is { } exception)
        {
            return Task.FromException(exception);
        }

        Sent.Writer.TryWrite((address, message));
        return Task.CompletedTask;
    }

    public async Task<(string Address, OutboundMessage Message)> NextAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await Sent.Reader.ReadAsync(cts.Token);
    }
}

/// <summary>A source whose receive blocks (like a long poll) until messages are queued or it is cancelled.</summary>
internal sealed class FakeSource(TimeSpan lease) : IMessageSource
{
    private readonly Channel<IInboundMessage> _queue = Channel.CreateUnbounded<IInboundMessage>();

    public string Description => "fake";

    public TimeSpan LeaseDuration => lease;

    public ConcurrentQueue<int> RequestedCounts { get; } = new();

    public Func<Exception?> Fail { get; set; } = () => null;

    public void Enqueue(IInboundMessage message) => _queue.Writer.TryWrite(message);

    public async Task<IReadOnlyList<IInboundMessage>> ReceiveAsync(int maxMessages, CancellationToken cancellationToken)
    {
        RequestedCounts.Enqueue(maxMessages);
        if (Fail() is { } exception)
        {
            throw exception;
        }

        var first = await _queue.Reader.ReadAsync(cancellationToken);
        var batch = new List<IInboundMessage> { first };
        while (batch.Count < maxMessages && _queue.Reader.TryRead(out var more))
        {
            batch.Add(more);
        }

        return batch;
    }
}

/// <summary>Keeps every formatted log message, for tests that check what was logged.</summary>
internal sealed class CollectingLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Collector(Messages);

    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Collector(ConcurrentQueue<string> messages) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                messages.Enqueue(formatter(state, exception));
            }
        }
    }
}
