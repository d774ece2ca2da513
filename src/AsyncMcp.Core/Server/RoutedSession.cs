using ModelContextProtocol.Server;

namespace AsyncMcp.Server;

/// <summary>One server-side MCP session held by the router: the SDK server, its transport and where it replies.</summary>
internal sealed class RoutedSession
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _notificationSends = new();
    private readonly Lock _orderGate = new();
    private Task _orderedTail = Task.CompletedTask;
    private long _lastActivityTicks;
    private long _sendSequence;
    private int _closed;

    public RoutedSession(string key, string? sessionId, string? clientId, string? replyAddress, DateTimeOffset now)
    {
        Key = key;
        SessionId = sessionId;
        ClientId = clientId;
        ReplyAddress = replyAddress;
        _lastActivityTicks = now.UtcTicks;
    }

    /// <summary>The routing key: the session id, or a client key for the per-client context of session-less requests.</summary>
    public string Key { get; }

    /// <summary>The server-minted session id; <see langword="null"/> for session-less (2026-07-28) traffic.</summary>
    public string? SessionId { get; }

    public string? ClientId { get; }

    /// <summary>For a session opened by <c>initialize</c>: the key its initialize request is tracked under, so a redelivered initialize finds this session instead of opening another.</summary>
    public string? InitializeKey { get; init; }

    /// <summary>Where messages that answer no particular request go.</summary>
    public string? ReplyAddress { get; set; }

    public RoutedServerTransport Transport { get; set; } = null!;

    /// <summary>The SDK server serving the session; <see langword="null"/> when a custom session handler serves it.</summary>
    public McpServer? Server { get; set; }

    /// <summary>Cancelled when the session closes, for a custom session handler.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    public Task RunTask { get; set; } = Task.CompletedTask;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// Sends a notification, remembering it until the broker has it, so that a later response can wait for it:
    /// the SDK reports progress fire-and-forget, yet a progress notice must reach the client before the result it precedes.
    /// </summary>
    public Task TrackNotificationSend(Func<Task> send)
    {
        var sequence = Interlocked.Increment(ref _sendSequence);
        var task = send();
        if (!task.IsCompleted)
        {
            _notificationSends[sequence] = task;
            _ = task.ContinueWith(
                (_, state) => _notificationSends.TryRemove((long)state!, out var _),
                sequence,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        return task;
    }

    /// <summary>Waits until every notification send that started before now has reached the broker (or failed).</summary>
    public Task WaitForEarlierNotificationsAsync()
    {
        if (_notificationSends.IsEmpty)
        {
            return Task.CompletedTask;
        }

        var upTo = Interlocked.Read(ref _sendSequence);
        var earlier = _notificationSends.Where(pair => pair.Key <= upTo).Select(pair => pair.Value).ToArray();
        return earlier.Length == 0 ? Task.CompletedTask : Task.WhenAll(earlier);
    }

    /// <summary>
    /// Runs sends one after another in the order they were asked for, for destinations that keep order (FIFO):
    /// the SDK may call the transport concurrently, but its calls arrive in the order the session produced them.
    /// </summary>
    public Task SendInOrder(Func<Task> send)
    {
        lock (_orderGate)
        {
            var next = RunAfterAsync(_orderedTail, send);
            _orderedTail = next;
            return next;
        }

        static async Task RunAfterAsync(Task previous, Func<Task> send)
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await send().ConfigureAwait(false);
        }
    }

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref _lastActivityTicks, now.UtcTicks);

    public bool TryMarkClosed() => Interlocked.Exchange(ref _closed, 1) == 0;
}
