using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Bridging;

/// <summary>
/// What a bridged session is doing, seen from its client side: the requests of its client not yet answered, and when it
/// was last used (an order, not a time: only "which session was used longest ago" is asked). A session with no request
/// in flight is idle, and the one idle longest may give its place to a new session at the limit.
/// </summary>
internal sealed class SessionActivity
{
    private static long s_clock;
    private readonly ConcurrentDictionary<RequestId, byte> _inFlight = new();
    private long _lastUsed = Interlocked.Increment(ref s_clock);
    private int _reclaimed;

    public SessionActivity(CancellationTokenSource stop) => Stop = stop;

    /// <summary>Ends the session's bridge.</summary>
    public CancellationTokenSource Stop { get; }

    /// <summary>Completed once the session's bridge has ended and its place under the limit is free.</summary>
    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether the bridge runs (a session still starting its child is not idle, whatever it has seen).</summary>
    public volatile bool Started;

    /// <summary>The order of the last use: lower was used longer ago.</summary>
    public long LastUsed => Interlocked.Read(ref _lastUsed);

    public bool IsIdle => Started && _inFlight.IsEmpty && Volatile.Read(ref _reclaimed) == 0;

    /// <summary>Claims this session for reclaiming; only one new session may take its place.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _reclaimed, 1) == 0;

    /// <summary>Wraps the session's transport so that what passes through it is seen here.</summary>
    public ITransport Observe(ITransport session) => new ObservedSession(session, this);

    private void Touch() => Interlocked.Exchange(ref _lastUsed, Interlocked.Increment(ref s_clock));

    private void Received(JsonRpcMessage message)
    {
        Touch();
        switch (message)
        {
            case JsonRpcRequest request:
                _inFlight[request.Id] = 0;
                if (request.Context?.RelatedTransport is { } related)
                {
                    // A session-less request is answered on its own reply transport, past the session's.
                    request.Context.RelatedTransport = new ObservedReplies(related, this);
                }

                break;
            case JsonRpcNotification { Method: NotificationMethods.CancelledNotification, Params: JsonObject parameters } when TryReadId(parameters["requestId"], out var id):
                // A cancelled request gets no answer.
                _inFlight.TryRemove(id, out _);
                break;
        }
    }

    private void Sent(JsonRpcMessage message)
    {
        Touch();
        if (message is JsonRpcResponse or JsonRpcError)
        {
            _inFlight.TryRemove(((JsonRpcMessageWithId)message).Id, out _);
        }
    }

    private static bool TryReadId(JsonNode? node, out RequestId id)
    {
        id = default;
        if (node is not JsonValue value)
        {
            return false;
        }

        if (value.TryGetValue<long>(out var number))
        {
            id = new RequestId(number);
            return true;
        }

        if (value.TryGetValue<string>(out var text))
        {
            id = new RequestId(text);
            return true;
        }

        return false;
    }

    private sealed class ObservedSession(ITransport inner, SessionActivity activity) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader { get; } = new ObservingReader(inner.MessageReader, activity);

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            activity.Sent(message);
            return inner.SendMessageAsync(message, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ObservedReplies(ITransport inner, SessionActivity activity) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            activity.Sent(message);
            return inner.SendMessageAsync(message, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ObservingReader(ChannelReader<JsonRpcMessage> inner, SessionActivity activity) : ChannelReader<JsonRpcMessage>
    {
        public override Task Completion => inner.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out JsonRpcMessage item)
        {
            if (!inner.TryRead(out item))
            {
                return false;
            }

            activity.Received(item);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);
    }
}
