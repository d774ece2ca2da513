using AsyncMcp.Messaging;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Client;

/// <summary>A connection's own reply queue, polled by a receive loop of its own.</summary>
internal sealed class PolledReplyFeed(IMessageSource source, int batchSize, Func<Exception, bool>? isFatal, ILoggerFactory? loggerFactory) : IReplyFeed
{
    private ReceiveLoop? _loop;

    /// <inheritdoc />
    public string Description => source.Description;

    /// <inheritdoc />
    public Task Completion => _loop?.Completion ?? Task.CompletedTask;

    /// <inheritdoc />
    public void Start(Func<IInboundMessage, CancellationToken, Task> handler)
    {
        _loop = new ReceiveLoop(source, handler, batchSize, limiter: null, isFatal, loggerFactory?.CreateLogger<ReceiveLoop>());
        _loop.Start();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _loop?.DisposeAsync() ?? ValueTask.CompletedTask;
}
