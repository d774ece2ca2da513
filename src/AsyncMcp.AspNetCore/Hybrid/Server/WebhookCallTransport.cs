using System.Threading.Channels;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Where the messages of one webhook call go once its POST has been answered: on the session's GET stream while one is
/// open (as with any Streamable HTTP request), otherwise to the client's webhook, one after another in the order the
/// tool sent them. The SDK sends to it as the call's related transport.
/// </summary>
internal sealed class WebhookCallTransport : ITransport
{
    private readonly HybridSession _session;
    private readonly string _webhookUrl;
    private readonly string _orderingKey;
    private readonly HybridDelivery _delivery;
    private readonly Lock _gate = new();
    private Task _tail = Task.CompletedTask;

    public WebhookCallTransport(HybridSession session, string webhookUrl, string orderingKey, HybridDelivery delivery)
    {
        _session = session;
        _webhookUrl = webhookUrl;
        _orderingKey = orderingKey;
        _delivery = delivery;
    }

    /// <inheritdoc />
    public string? SessionId => _session.SessionId;

    /// <inheritdoc />
    public ChannelReader<JsonRpcMessage> MessageReader => throw new NotSupportedException("A webhook call's transport only sends.");

    private readonly List<Task> _started = [];

    /// <summary>Completes when everything the call has sent so far has been handed over (or has failed).</summary>
    public Task Sent
    {
        get
        {
            lock (_gate)
            {
                _started.RemoveAll(static t => t.IsCompleted);
                return _started.Count == 0 ? _tail : Task.WhenAll([.. _started, _tail]);
            }
        }
    }

    /// <summary>
    /// Counts a send that has started on its way here through the SDK (a tool's progress report is fire-and-forget and
    /// can still be in the SDK when the tool returns), so that <see cref="Sent"/> waits for it too.
    /// </summary>
    public Task Track(Task send)
    {
        if (!send.IsCompleted)
        {
            lock (_gate)
            {
                _started.Add(send);
            }
        }

        return send;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Sends go one after another, whichever way they take, so that <see cref="Sent"/> covers everything the call has
    /// said when its result is delivered.
    /// </remarks>
    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);

        // The context named this transport so the SDK would route here; it must not travel on.
        message.Context = null;
        Task send;
        lock (_gate)
        {
            send = _tail = AfterAsync(_tail, message, cancellationToken);
        }

        await send.ConfigureAwait(false);
    }

    private async Task AfterAsync(Task previous, JsonRpcMessage message, CancellationToken cancellationToken)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // Notifications ride the GET stream while one is open. Requests to the client (sampling, elicitation) always go
        // by webhook: the session's server can only put a request on its stream as a request of its own, and the
        // client's answer, POSTed on the session, finds this one by its id whichever way it went.
        if (_session.HasOpenStream && message is not JsonRpcRequest)
        {
            try
            {
                await _session.Server!.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (InvalidOperationException)
            {
                // The stream closed in between: use the webhook.
            }
        }

        // A request that cannot be delivered throws here, so the tool that sent it learns it at once.
        await _delivery.SendAsync(_session, _webhookUrl, message, _orderingKey, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => default;
}
