using System.Threading.Channels;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Messaging;

/// <summary>
/// What the SDK's <see cref="TransportBase"/> gives a transport (the channel the SDK reads, the connected state), but
/// with the message handed to the SDK's reader on the thread that writes it instead of on a thread-pool thread: the
/// SDK's read loop only logs and counts before it moves each message's handling to the thread pool itself, so the
/// extra hop through the channel cost a thread wake-up per message and added nothing.
/// </summary>
internal abstract class McpTransportBase : ITransport
{
    private const int Initial = 0;
    private const int Connected = 1;
    private const int Disconnected = 2;

    private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = true,
    });

    private int _state;

    /// <summary>Creates the transport.</summary>
    /// <param name="name">The name the transport goes by in logs.</param>
    protected McpTransportBase(string name) => Name = name;

    /// <summary>The name the transport goes by in logs.</summary>
    protected string Name { get; }

    /// <inheritdoc />
    public virtual string? SessionId { get; protected set; }

    /// <summary>Whether the transport is connected: set once by <see cref="SetConnected"/>, cleared for good by <see cref="SetDisconnected"/>.</summary>
    public bool IsConnected => Volatile.Read(ref _state) == Connected;

    /// <inheritdoc />
    public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

    /// <inheritdoc />
    public abstract Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <summary>Hands a received message to the SDK; dropped once the transport is disconnected.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Fails the write when already cancelled.</param>
    /// <returns>A completed task (the channel is unbounded).</returns>
    protected Task WriteMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        if (IsConnected)
        {
            _messages.Writer.TryWrite(message);
        }

        return Task.CompletedTask;
    }

    /// <summary>Marks the transport connected; a transport once disconnected cannot connect again.</summary>
    /// <exception cref="IOException">The transport was already disconnected.</exception>
    protected void SetConnected()
    {
        if (Interlocked.CompareExchange(ref _state, Connected, Initial) == Disconnected)
        {
            throw new IOException("Transport is already disconnected and can't be reconnected.");
        }
    }

    /// <summary>Marks the transport disconnected for good and completes the SDK's channel, with the error if one is given. Safe to call more than once.</summary>
    /// <param name="error">Why the transport ended, for the SDK to report (a <c>ClientTransportClosedException</c> on a client).</param>
    protected void SetDisconnected(Exception? error = null)
    {
        if (Interlocked.Exchange(ref _state, Disconnected) != Disconnected)
        {
            _messages.Writer.TryComplete(error);
        }
    }
}
