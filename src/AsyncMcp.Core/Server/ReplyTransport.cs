using System.Threading.Channels;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// Carries everything the server says in answer to one session-less request (the response, progress, logs)
/// to that request's own reply address. Set as the request's <see cref="JsonRpcMessageContext.RelatedTransport"/>.
/// </summary>
internal sealed class ReplyTransport(Func<JsonRpcMessage, string, CancellationToken, Task> send, string replyAddress) : ITransport
{
    public string? SessionId => null;

    public ChannelReader<JsonRpcMessage> MessageReader =>
        throw new NotSupportedException("A reply transport only sends; requests arrive through the router.");

    public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
        send(message, replyAddress, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
