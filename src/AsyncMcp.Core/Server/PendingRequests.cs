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
        if (!_pending.TryAdd((sessionKey, id), pending))
        {
            return false;
        }

        _limiter.Acquire();
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

    public IInboundMessage Message { get; } = message;

    public DateTimeOffset LeaseExpires { get; set; }

    public bool LeaseLost { get; set; }

    /// <summary>Tells a copy of this request apart from a different request that reuses its id.</summary>
    public int Fingerprint { get; init; }
}
