using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// What the hybrid transport knows of one client: its webhook URL, its session's own server and whether a GET stream
/// is open on it, the webhook calls still running, and results that could not be delivered yet. Sessionless clients
/// (protocol revision 2026-07-28) get one per webhook URL, so their undelivered results have somewhere to wait too.
/// </summary>
internal sealed class HybridSession
{
    private readonly LinkedList<KeptResult> _kept = new();
    private int _openStreams;
    private int _redelivering;

    public HybridSession(string key, string? sessionId)
    {
        Key = key;
        SessionId = sessionId;
    }

    /// <summary>The registry key: the session id, or the webhook URL of a sessionless client.</summary>
    public string Key { get; }

    /// <summary>The Streamable HTTP session id; <see langword="null"/> for a sessionless client.</summary>
    public string? SessionId { get; }

    /// <summary>How logs name this client.</summary>
    public string Label => SessionId ?? "(sessionless)";

    /// <summary>The webhook URL named in <c>initialize</c>; <see langword="null"/> when the client has none.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The session's own server, which sends on the session's GET stream; <see langword="null"/> when sessionless.</summary>
    public McpServer? Server { get; set; }

    /// <summary>Webhook calls still running, by request id, so a <c>notifications/cancelled</c> can stop them.</summary>
    public ConcurrentDictionary<string, CancellationTokenSource> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether messages sent to <see cref="Server"/> reach the client now (a GET stream is open).</summary>
    public bool HasOpenStream => Server is not null && Volatile.Read(ref _openStreams) > 0;

    /// <summary>How many undelivered results are kept.</summary>
    public int KeptCount
    {
        get
        {
            lock (_kept)
            {
                return _kept.Count;
            }
        }
    }

    /// <summary>Whether there is nothing left to remember (a sessionless entry can then go).</summary>
    public bool IsIdle => Calls.IsEmpty && KeptCount == 0;

    public void StreamOpened() => Interlocked.Increment(ref _openStreams);

    public void StreamClosed() => Interlocked.Decrement(ref _openStreams);

    /// <summary>Keeps a result; returns the one discarded to stay within <paramref name="max"/>, if any.</summary>
    public KeptResult? Keep(KeptResult result, int max)
    {
        lock (_kept)
        {
            _kept.AddLast(result);
            if (_kept.Count <= max)
            {
                return null;
            }

            var oldest = _kept.First!.Value;
            _kept.RemoveFirst();
            return oldest;
        }
    }

    /// <summary>Takes every kept result, oldest first.</summary>
    public List<KeptResult> TakeKept()
    {
        lock (_kept)
        {
            var all = _kept.ToList();
            _kept.Clear();
            return all;
        }
    }

    /// <summary>Removes and returns the kept results whose time is up.</summary>
    public List<KeptResult> RemoveExpired(DateTimeOffset now)
    {
        var expired = new List<KeptResult>();
        lock (_kept)
        {
            for (var node = _kept.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.ExpiresAt <= now)
                {
                    expired.Add(node.Value);
                    _kept.Remove(node);
                }

                node = next;
            }
        }

        return expired;
    }

    /// <summary>Claims the right to redeliver kept results, so that only one redelivery runs at a time.</summary>
    public bool TryBeginRedelivery() => Interlocked.CompareExchange(ref _redelivering, 1, 0) == 0;

    public void EndRedelivery() => Volatile.Write(ref _redelivering, 0);
}

/// <summary>A result that could not be delivered yet, and until when it is kept.</summary>
/// <param name="Message">The JSON-RPC response (or error) of a webhook call.</param>
/// <param name="WebhookUrl">Where it should have gone.</param>
/// <param name="ExpiresAt">When it is discarded.</param>
internal sealed record KeptResult(JsonRpcMessageWithId Message, string WebhookUrl, DateTimeOffset ExpiresAt);

/// <summary>The hybrid transport's clients, by session id (or, when sessionless, by webhook URL).</summary>
internal sealed class HybridSessionRegistry
{
    private const string SessionPrefix = "session:";
    private const string WebhookPrefix = "webhook:";
    private readonly ConcurrentDictionary<string, HybridSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public IEnumerable<HybridSession> All => _sessions.Values;

    public HybridSession GetOrAddSession(string sessionId) =>
        _sessions.GetOrAdd(SessionPrefix + sessionId, static (key, id) => new HybridSession(key, id), sessionId);

    public HybridSession? FindSession(string? sessionId) =>
        !string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(SessionPrefix + sessionId, out var session) ? session : null;

    public HybridSession GetOrAddSessionless(string webhookUrl) =>
        _sessions.GetOrAdd(WebhookPrefix + webhookUrl, static key => new HybridSession(key, sessionId: null));

    public HybridSession? FindSessionless(string? webhookUrl) =>
        !string.IsNullOrEmpty(webhookUrl) && _sessions.TryGetValue(WebhookPrefix + webhookUrl, out var session) ? session : null;

    public bool Remove(HybridSession session) => _sessions.TryRemove(new KeyValuePair<string, HybridSession>(session.Key, session));
}
