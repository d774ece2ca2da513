using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// Wraps the forwarder's upstream transport so that progress notifications are taken out in the order they arrive, and
/// handed to a callback before any later message reaches the SDK client. The SDK client handles each message on its
/// own work item, so a response could otherwise overtake the progress sent before it, and the progress would find its
/// request finished.
/// </summary>
internal sealed class ProgressFirstClientTransport(IClientTransport inner, Action<JsonRpcNotification> onProgress) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var session = new Session(await inner.ConnectAsync(cancellationToken).ConfigureAwait(false), onProgress);
        session.Start();
        return session;
    }

    private sealed class Session(ITransport inner, Action<JsonRpcNotification> onProgress) : ITransport
    {
        private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private Task _pump = Task.CompletedTask;

        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

        public void Start() => _pump = Task.Run(PumpAsync);

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task PumpAsync()
        {
            Exception? error = null;
            try
            {
                await foreach (var message in inner.MessageReader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification } progress)
                    {
                        onProgress(progress);
                    }
                    else
                    {
                        await _messages.Writer.WriteAsync(message).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The inner transport's reason for closing (a ClientTransportClosedException, say) becomes ours, for McpClient.Completion.
                error = ex;
            }

            _messages.Writer.TryComplete(error);
        }
    }
}
