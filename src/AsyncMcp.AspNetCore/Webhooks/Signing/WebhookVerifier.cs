using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AsyncMcp.AspNetCore.Webhooks.Signing;

/// <summary>What checking an incoming message's signature found.</summary>
internal enum VerificationOutcome
{
    /// <summary>Signed correctly, within the time tolerance, not seen before.</summary>
    Valid,

    /// <summary>Not signed, and unsigned messages are allowed.</summary>
    UnsignedAllowed,

    /// <summary>Signed correctly, but this <c>webhook-id</c> was already accepted: a retry or a replay. Not processed again.</summary>
    Replayed,

    /// <summary>Refused: the reason is in the result.</summary>
    Refused,
}

/// <summary>The outcome of a check, with a reason a person can act on when refused.</summary>
internal readonly record struct VerificationResult(VerificationOutcome Outcome, string? Reason = null, string? MessageId = null);

/// <summary>
/// Checks the Standard Webhooks signature of incoming requests: the signature itself, the timestamp against a
/// tolerance, and the message id against those accepted within the tolerance (replay protection).
/// </summary>
internal sealed class WebhookVerifier
{
    private const int MaxRemembered = 100_000;
    private readonly WebhookSigner? _signer;
    private readonly bool _allowUnsigned;
    private readonly TimeSpan _tolerance;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private long _lastSweepTicks;

    // The number of ids in _seen, kept here because ConcurrentDictionary.Count takes every lock of the dictionary: read
    // on each message, it made concurrent verifications wait on one another.
    private int _remembered;

    public WebhookVerifier(WebhookSigner? signer, bool allowUnsigned, TimeSpan tolerance, TimeProvider? time = null)
    {
        _signer = signer;
        _allowUnsigned = allowUnsigned;
        _tolerance = tolerance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How many accepted ids are remembered for replay protection.</summary>
    internal int Remembered => Volatile.Read(ref _remembered);

    public VerificationResult Verify(IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        var id = headers[StandardWebhookHeaders.Id].ToString();
        var timestamp = headers[StandardWebhookHeaders.Timestamp].ToString();
        var signature = headers[StandardWebhookHeaders.Signature].ToString();
        var signed = id.Length > 0 || timestamp.Length > 0 || signature.Length > 0;
        if (!signed)
        {
            return _allowUnsigned
                ? new VerificationResult(VerificationOutcome.UnsignedAllowed)
                : new VerificationResult(VerificationOutcome.Refused, $"The message is not signed: the {StandardWebhookHeaders.Id}, {StandardWebhookHeaders.Timestamp} and {StandardWebhookHeaders.Signature} headers are required.");
        }

        if (_signer is null)
        {
            // Unsigned operation with no secret to check against: a signature cannot be verified, so it is ignored.
            return new VerificationResult(VerificationOutcome.UnsignedAllowed);
        }

        if (id.Length == 0 || timestamp.Length == 0 || signature.Length == 0)
        {
            return new VerificationResult(VerificationOutcome.Refused, $"The signature is incomplete: {StandardWebhookHeaders.Id}, {StandardWebhookHeaders.Timestamp} and {StandardWebhookHeaders.Signature} must all be present.");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return new VerificationResult(VerificationOutcome.Refused, $"The {StandardWebhookHeaders.Timestamp} header is not a Unix time in seconds.");
        }

        var now = _time.GetUtcNow();
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if ((now - sentAt).Duration() > _tolerance)
        {
            return new VerificationResult(VerificationOutcome.Refused, $"The {StandardWebhookHeaders.Timestamp} is {(now - sentAt).TotalSeconds:F0} s from now, outside the tolerance of {_tolerance.TotalSeconds:F0} s (clock skew, or a replay).");
        }

        if (!_signer.Matches(id, timestamp, signature, body))
        {
            return new VerificationResult(VerificationOutcome.Refused, "The signature does not match the message under the configured secret.");
        }

        // Remembered for as long as its timestamp stays acceptable: a message stamped ahead of now (clock skew) is
        // still inside the tolerance until its timestamp plus the tolerance, later than now plus the tolerance.
        Sweep(now);
        if (!_seen.TryAdd(id, (sentAt > now ? sentAt : now) + _tolerance))
        {
            return new VerificationResult(VerificationOutcome.Replayed, MessageId: id);
        }

        Interlocked.Increment(ref _remembered);
        return new VerificationResult(VerificationOutcome.Valid, MessageId: id);
    }

    /// <summary>
    /// Forgets an accepted id because its message was refused after all (a busy server, say), so that a retry of it is
    /// processed rather than taken for a replay.
    /// </summary>
    public void Forget(string? messageId)
    {
        if (messageId is not null && _seen.TryRemove(messageId, out _))
        {
            Interlocked.Decrement(ref _remembered);
        }
    }

    /// <summary>Forgets ids whose timestamps are out of the tolerance by now (a replay of them fails the timestamp check instead).</summary>
    private void Sweep(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerSecond * 10 && Volatile.Read(ref _remembered) < MaxRemembered)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        foreach (var entry in _seen)
        {
            if (entry.Value < now && _seen.TryRemove(entry))
            {
                Interlocked.Decrement(ref _remembered);
            }
        }
    }
}
