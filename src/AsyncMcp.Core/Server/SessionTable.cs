using System.Collections.Concurrent;

namespace AsyncMcp.Server;

/// <summary>
/// The sessions (and session-less client contexts) a server holds, by typed key, within a limit; and, for each client's
/// <c>initialize</c> requests, the session they opened, so that a copy of an initialize finds it instead of opening
/// another.
/// </summary>
/// <param name="limit">The most sessions and contexts at once.</param>
/// <param name="countChanged">Told of each session added (+1) and removed (-1), for the metrics.</param>
internal sealed class SessionTable(int limit, Action<int>? countChanged = null)
{
    private readonly ConcurrentDictionary<SessionKey, ServerSession> _sessions = new();
    private readonly ConcurrentDictionary<SessionKey, ServerSession> _openedBy = new();
    private readonly Lock _gate = new();

    public int Count => _sessions.Count;

    public IEnumerable<ServerSession> All => _sessions.Values;

    /// <summary>The open session or context with this key, if any.</summary>
    public ServerSession? Find(SessionKey key) =>
        _sessions.TryGetValue(key, out var session) && !session.IsClosed ? session : null;

    /// <summary>The open session that a client's initialize requests opened last, if any.</summary>
    public ServerSession? FindOpenedBy(SessionKey initializeKey) =>
        _openedBy.TryGetValue(initializeKey, out var session) && !session.IsClosed ? session : null;

    /// <summary>Returns the open session with this key, or adds the one <paramref name="create"/> makes; <see langword="null"/> at the limit.</summary>
    public ServerSession? GetOrAdd(SessionKey key, Func<ServerSession> create, SessionKey? initializeKey = null)
    {
        lock (_gate)
        {
            if (Find(key) is { } existing)
            {
                return existing;
            }

            if (_sessions.Count >= limit)
            {
                return null;
            }

            var session = create();
            _sessions[key] = session;
            countChanged?.Invoke(1);
            if (initializeKey is { } opener)
            {
                _openedBy[opener] = session;
            }

            return session;
        }
    }

    /// <summary>Forgets a session that closed.</summary>
    public void Remove(ServerSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<SessionKey, ServerSession>(session.Key, session)))
        {
            countChanged?.Invoke(-1);
        }
        if (session.InitializeKey is { } opener)
        {
            _openedBy.TryRemove(new KeyValuePair<SessionKey, ServerSession>(opener, session));
        }
    }
}
