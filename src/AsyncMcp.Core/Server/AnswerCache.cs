using AsyncMcp.Messaging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// Remembers recent answers by (session or client, JSON-RPC id, body fingerprint), so that a request delivered
/// again (a redelivery after a lost acknowledgement, or a copy) is answered again instead of run again.
/// Bounded in time and count; in memory, so it does not survive a restart.
/// </summary>
internal sealed class AnswerCache(TimeSpan window, int capacity, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(SessionKey Session, RequestId Id), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _byAge = new();

    public bool Enabled => window > TimeSpan.Zero && capacity > 0;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public void Remember(SessionKey sessionKey, RequestId id, int fingerprint, string address, OutboundMessage answer)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_gate)
        {
            if (_entries.Remove((sessionKey, id), out var existing))
            {
                _byAge.Remove(existing);
            }

            var node = _byAge.AddLast(new Entry(sessionKey, id, fingerprint, address, answer, time.GetUtcNow() + window));
            _entries[(sessionKey, id)] = node;
            while (_entries.Count > capacity && _byAge.First is { } oldest)
            {
                _byAge.RemoveFirst();
                _entries.Remove((oldest.Value.Session, oldest.Value.Id));
            }
        }
    }

    public bool TryGet(SessionKey sessionKey, RequestId id, int fingerprint, out string address, out OutboundMessage answer)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue((sessionKey, id), out var node) &&
                node.Value.Fingerprint == fingerprint &&
                node.Value.Expires > time.GetUtcNow())
            {
                address = node.Value.Address;
                answer = node.Value.Answer;
                return true;
            }
        }

        address = string.Empty;
        answer = null!;
        return false;
    }

    public void RemoveExpired()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            while (_byAge.First is { } oldest && oldest.Value.Expires <= now)
            {
                _byAge.RemoveFirst();
                _entries.Remove((oldest.Value.Session, oldest.Value.Id));
            }
        }
    }

    private sealed record Entry(SessionKey Session, RequestId Id, int Fingerprint, string Address, OutboundMessage Answer, DateTimeOffset Expires);
}
