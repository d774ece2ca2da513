using System.Collections.Concurrent;
using AsyncMcp.Messaging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// What the hybrid transport knows of one client: its webhook URL, its session's own server and whether a GET stream
/// is open on it, the webhook calls still running, and results that could not be delivered yet. Sessionless clients
/// (protocol revision 2026-07-28) get one per webhook URL, so their undelivered results have somewhere to wait too.
/// Once closed (the session ended, or an idle sessionless entry was retired) it takes no more calls or results, so
/// nothing is ever left on an entry that nobody looks at.
/// </summary>
internal sealed class HybridSession
{
    private readonly Lock _gate = new();
    private readonly LinkedList<KeptResult> _kept = new();
    private readonly Dictionary<string, WebhookCall> _calls = new(StringComparer.Ordinal);
    private bool _closed;
    private bool _redelivering;
    private int _openStreams;

    public HybridSession(string key, string? sessionId, string? webhookUrl = null)
    {
        Key = key;
        SessionId = sessionId;
        WebhookUrl = webhookUrl;
    }

    /// <summary>The registry key: the session id, or the webhook URL of a sessionless client.</summary>
    public string Key { get; }

    /// <summary>The Streamable HTTP session id; <see langword="null"/> for a sessionless client.</summary>
    public string? SessionId { get; }

    /// <summary>How logs name this client.</summary>
    public string Label => SessionId ?? $"(sessionless, webhook {WebhookUrl})";

    /// <summary>The webhook URL named in <c>initialize</c> (or, sessionless, the one this entry is for); <see langword="null"/> when the client has none.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The session's own server, which sends on the session's GET stream; <see langword="null"/> when sessionless.</summary>
    public McpServer? Server { get; set; }

    /// <summary>Whether messages sent to <see cref="Server"/> reach the client now (a GET stream is open).</summary>
    public bool HasOpenStream => Server is not null && Volatile.Read(ref _openStreams) > 0;

    /// <summary>How many undelivered results are kept.</summary>
    public int KeptCount
    {
        get
        {
            lock (_gate)
            {
                return _kept.Count;
            }
        }
    }

    /// <summary>How many webhook calls are running (or delivering their result).</summary>
    public int CallCount
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count;
            }
        }
    }

    /// <summary>Whether the client closed the session (an HTTP <c>DELETE</c>): its webhook calls are then cancelled, not left to finish.</summary>
    public bool ClosedByClient { get; private set; }

    public void MarkClosedByClient() => ClosedByClient = true;

    public void StreamOpened() => Interlocked.Increment(ref _openStreams);

    public void StreamClosed() => Interlocked.Decrement(ref _openStreams);

    /// <summary>Adds a running call, unless the entry is closed, the request id is taken or <paramref name="max"/> calls run already.</summary>
    public CallAdmission TryAddCall(WebhookCall call, int max)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return CallAdmission.Closed;
            }

            if (_calls.ContainsKey(call.Key))
            {
                return CallAdmission.DuplicateId;
            }

            if (_calls.Count >= max)
            {
                return CallAdmission.Full;
            }

            _calls.Add(call.Key, call);
            return CallAdmission.Added;
        }
    }

    /// <summary>Forgets a call once its result has been handed over (or it was cancelled).</summary>
    public void RemoveCall(WebhookCall call)
    {
        lock (_gate)
        {
            if (_calls.TryGetValue(call.Key, out var current) && current == call)
            {
                _calls.Remove(call.Key);
            }
        }
    }

    public WebhookCall? FindCall(string key)
    {
        lock (_gate)
        {
            return _calls.GetValueOrDefault(key);
        }
    }

    /// <summary>Keeps a result unless the entry is closed; <paramref name="evicted"/> is the oldest one discarded to stay within <paramref name="max"/>.</summary>
    public bool TryKeep(KeptResult result, int max, out KeptResult? evicted)
    {
        evicted = null;
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _kept.AddLast(result);
            if (_kept.Count > max)
            {
                evicted = _kept.First!.Value;
                _kept.RemoveFirst();
            }

            return true;
        }
    }

    /// <summary>Takes the oldest kept result, if any.</summary>
    public KeptResult? TakeOldest()
    {
        lock (_gate)
        {
            if (_kept.First is not { } first)
            {
                return null;
            }

            _kept.RemoveFirst();
            return first.Value;
        }
    }

    /// <summary>Takes the kept result of one request, if there is one (the client cancelled it).</summary>
    public KeptResult? TakeKept(string requestKey)
    {
        lock (_gate)
        {
            for (var node = _kept.First; node is not null; node = node.Next)
            {
                if (node.Value.RequestKey == requestKey)
                {
                    _kept.Remove(node);
                    return node.Value;
                }
            }

            return null;
        }
    }

    /// <summary>Removes and returns the kept results whose time is up.</summary>
    public List<KeptResult> TakeExpired(DateTimeOffset now)
    {
        var expired = new List<KeptResult>();
        lock (_gate)
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

    /// <summary>Closes the entry (its session ended, or the server is stopping): returns its running calls and kept results.</summary>
    public (List<WebhookCall> Calls, List<KeptResult> Kept) Close()
    {
        lock (_gate)
        {
            _closed = true;
            var calls = _calls.Values.ToList();
            var kept = _kept.ToList();
            _kept.Clear();
            return (calls, kept);
        }
    }

    /// <summary>Closes a sessionless entry that holds nothing and is not being redelivered, so the registry can drop it.</summary>
    public bool TryRetire()
    {
        lock (_gate)
        {
            if (_calls.Count > 0 || _kept.Count > 0 || _redelivering)
            {
                return false;
            }

            _closed = true;
            return true;
        }
    }

    /// <summary>Claims the right to redeliver kept results (one redelivery at a time, and none on a closed entry).</summary>
    public bool TryBeginRedelivery()
    {
        lock (_gate)
        {
            if (_closed || _redelivering || _kept.Count == 0)
            {
                return false;
            }

            _redelivering = true;
            return true;
        }
    }

    public void EndRedelivery()
    {
        lock (_gate)
        {
            _redelivering = false;
        }
    }
}

/// <summary>The outcome of <see cref="HybridSession.TryAddCall"/>.</summary>
internal enum CallAdmission
{
    Added,
    Closed,
    DuplicateId,
    Full,
}

/// <summary>A result that could not be delivered yet, and until when it is kept.</summary>
/// <param name="Message">The JSON-RPC response (or error) of a webhook call.</param>
/// <param name="Outbound">Its signed-and-sent form; the same delivery id on every attempt, so a receiver can drop a copy it already took.</param>
/// <param name="WebhookUrl">Where it should have gone.</param>
/// <param name="ExpiresAt">When it is discarded.</param>
internal sealed record KeptResult(JsonRpcMessageWithId Message, OutboundMessage Outbound, string WebhookUrl, DateTimeOffset ExpiresAt)
{
    /// <summary>The request id as calls and cancellations name it.</summary>
    public string RequestKey => Message.Id.ToString();
}

/// <summary>The hybrid transport's clients, by session id (or, when sessionless, by webhook URL).</summary>
internal sealed class HybridSessionRegistry
{
    private const string SessionPrefix = "session:";
    private const string WebhookPrefix = "webhook:";
    private readonly ConcurrentDictionary<string, HybridSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public IEnumerable<HybridSession> All => _sessions.Values;

    /// <summary>Registers a stateful session; called once, when the SDK starts running it.</summary>
    public HybridSession AddSession(string sessionId) =>
        _sessions.GetOrAdd(SessionPrefix + sessionId, static (key, id) => new HybridSession(key, id), sessionId);

    public HybridSession? FindSession(string? sessionId) =>
        !string.IsNullOrEmpty(sessionId) && _sessions.TryGetValue(SessionPrefix + sessionId, out var session) ? session : null;

    public HybridSession GetOrAddSessionless(string webhookUrl) =>
        _sessions.GetOrAdd(WebhookPrefix + webhookUrl, static (key, url) => new HybridSession(key, sessionId: null, url), webhookUrl);

    public HybridSession? FindSessionless(string? webhookUrl) =>
        !string.IsNullOrEmpty(webhookUrl) && _sessions.TryGetValue(WebhookPrefix + webhookUrl, out var session) ? session : null;

    public bool Remove(HybridSession session) => _sessions.TryRemove(new KeyValuePair<string, HybridSession>(session.Key, session));
}
