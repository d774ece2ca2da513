using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Testing;

/// <summary>
/// Wraps a client transport and records the order in which messages come out of it. The SDK handles incoming
/// messages concurrently, so order is only observable here, at the transport boundary.
/// </summary>
public sealed class ObservingClientTransport(IClientTransport inner) : IClientTransport
{
    public ConcurrentQueue<JsonRpcMessage> Received { get; } = new();

    /// <summary>
    /// The progress values that came out of the transport before the response whose text is <paramref name="resultText"/>,
    /// or <see langword="null"/> while that response has not come out. The SDK hands each message to its own thread-pool
    /// work item, so a progress handler can still run after the call has returned: progress order is a transport
    /// property, checked here.
    /// </summary>
    public IReadOnlyList<double>? ProgressBefore(string resultText)
    {
        var progress = new List<double>();
        foreach (var message in Received)
        {
            switch (message)
            {
                case JsonRpcNotification { Method: NotificationMethods.ProgressNotification } notification:
                    progress.Add((double)notification.Params!["progress"]!);
                    break;
                case JsonRpcResponse response when response.Result?.ToJsonString().Contains(resultText, StringComparison.Ordinal) == true:
                    return progress;
            }
        }

        return null;
    }

    /// <summary>The progress notices that came out of the transport, in order.</summary>
    public List<ProgressNotificationValue> ProgressNotices() =>
        Received
            .OfType<JsonRpcNotification>()
            .Where(n => n.Method == NotificationMethods.ProgressNotification)
            .Select(n => JsonSerializer.Deserialize<ProgressNotificationParams>(n.Params, McpJsonUtilities.DefaultOptions)!.Progress)
            .ToList();

    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Observed(await inner.ConnectAsync(cancellationToken), Received);

    private sealed class Observed : ITransport
    {
        private readonly ITransport _inner;
        private readonly Channel<JsonRpcMessage> _channel = Channel.CreateUnbounded<JsonRpcMessage>();
        private readonly Task _pump;

        public Observed(ITransport inner, ConcurrentQueue<JsonRpcMessage> received)
        {
            _inner = inner;
            _pump = Task.Run(async () =>
            {
                try
                {
                    await foreach (var message in inner.MessageReader.ReadAllAsync())
                    {
                        received.Enqueue(message);
                        await _channel.Writer.WriteAsync(message);
                    }

                    _channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    _channel.Writer.TryComplete(ex);
                }
            });
        }

        public string? SessionId => _inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => _channel.Reader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => _inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await _inner.DisposeAsync();
            await _pump;
        }
    }
}
