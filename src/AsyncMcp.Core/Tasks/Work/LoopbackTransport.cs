using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// One end of an in-process pipe between the private server a task runs on and the client that drives it. Messages are
/// handed over as objects: both ends live in this process for the length of one run.
/// </summary>
internal sealed class LoopbackTransport : ITransport, IClientTransport
{
    private readonly Channel<JsonRpcMessage> _inbox = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true });
    private LoopbackTransport? _peer;

    private LoopbackTransport()
    {
    }

    public string? SessionId => null;

    public string Name => "asyncmcp-task";

    public ChannelReader<JsonRpcMessage> MessageReader => _inbox.Reader;

    /// <summary>Gets the last error response sent from this end.</summary>
    public JsonRpcError? LastError { get; private set; }

    /// <summary>Creates the two connected ends.</summary>
    public static (LoopbackTransport Server, LoopbackTransport Client) CreatePair()
    {
        var server = new LoopbackTransport();
        var client = new LoopbackTransport();
        server._peer = client;
        client._peer = server;
        return (server, client);
    }

    public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is JsonRpcError error)
        {
            LastError = error;
        }

        return _peer!._inbox.Writer.TryWrite(message)
            ? Task.CompletedTask
            : Task.FromException(new IOException("The task's loopback connection is closed."));
    }

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) => Task.FromResult<ITransport>(this);

    /// <summary>Closes both directions; idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        _inbox.Writer.TryComplete();
        _peer?._inbox.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
