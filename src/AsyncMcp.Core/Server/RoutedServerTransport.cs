using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// The transport of one server-side session: the router writes the session's incoming messages into it, and
/// the <see cref="ModelContextProtocol.Server.McpServer"/> running on it sends through the router to the
/// session's reply address.
/// </summary>
internal sealed class RoutedServerTransport : TransportBase
{
    private readonly Func<JsonRpcMessage, CancellationToken, Task> _send;
    private int _disposed;

    public RoutedServerTransport(string name, string? sessionId, Func<JsonRpcMessage, CancellationToken, Task> send, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory)
        : base(name, loggerFactory)
    {
        _send = send;
        SessionId = sessionId;
        SetConnected();
    }

    public Task DeliverAsync(JsonRpcMessage message, CancellationToken cancellationToken) => WriteMessageAsync(message, cancellationToken);

    public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            throw new IOException("The session is closed.");
        }

        return _send(message, cancellationToken);
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            SetDisconnected();
        }

        return ValueTask.CompletedTask;
    }
}
