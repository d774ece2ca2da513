using System.Collections.Concurrent;
using AsyncMcp.Messaging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// The requests the server has received and not yet answered, each with the broker message that carried it.
/// A message is removed from the broker only when its answer has been handed to the broker.
/// </summary>
internal sealed class PendingRequests
{
    private readonly ConcurrentDictionary<(string Session, RequestId Id), PendingRequest> _pending = new();
    private readonly InFlightLimiter _limiter;

    public PendingRequests(InFlightLimiter limiter) => _limiter = limiter;

    public int Count => _pending.Count;

    public IEnumerable<PendingRequest> Snapshot => _pending.Values;

    /// <summary>Starts tracking a request. Returns <see langword="false"/> if the same request is already in flight.</summary>
    public bool TryAdd(string sessionKey, RequestId id, IInboundMessage message, int fingerprint, DateTimeOffset leaseExpires)
    {
        var pending = new PendingRequest(sessionKey, id, message) { LeaseExpires = leaseExpires, Fingerprint = fingerprint };

        // Count first: a removal racing with this add must never release a slot that was not yet taken.
        _limiter.Acquire();
        if (!_pending.TryAdd((sessionKey, id), pending))
        {
            _limiter.Release();
            return false;
        }

        return true;
    }

    /// <summary>Stops tracking a request and returns its message, or <see langword="null"/> if it was not tracked.</summary>
    public IInboundMessage? Remove(string sessionKey, RequestId id)
    {
        if (_pending.TryRemove((sessionKey, id), out var pending))
        {
            _limiter.Release();
            return pending.Message;
        }

        return null;
    }

    public PendingRequest? Find(string sessionKey, RequestId id) => _pending.TryGetValue((sessionKey, id), out var pending) ? pending : null;

    /// <summary>Stops tracking every request of a session and returns their messages.</summary>
    public List<IInboundMessage> RemoveAll(string sessionKey)
    {
        var removed = new List<IInboundMessage>();
        foreach (var key in _pending.Keys)
        {
            if (key.Session == sessionKey && Remove(key.Session, key.Id) is { } message)
            {
                removed.Add(message);
            }
        }

        return removed;
    }

    public bool HasAny(string sessionKey)
    {
        foreach (var key in _pending.Keys)
        {
            if (key.Session == sessionKey)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>One request in flight.</summary>
internal sealed class PendingRequest(string sessionKey, RequestId id, IInboundMessage message)
{
    public string SessionKey { get; } = sessionKey;

    public RequestId Id { get; } = id;

    /// <summary>The broker message; replaced when the broker hands out the same message again with a new receipt.</summary>
    public IInboundMessage Message { get; set; } = message;

    public DateTimeOffset LeaseExpires { get; set; }

    public bool LeaseLost { get; set; }

    /// <summary>Tells a copy of this request apart from a different request that reuses its id.</summary>
    public int Fingerprint { get; init; }
}
