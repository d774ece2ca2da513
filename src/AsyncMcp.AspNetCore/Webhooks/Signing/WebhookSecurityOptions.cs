namespace AsyncMcp.AspNetCore.Webhooks.Signing;

/// <summary>
/// How one side of a webhook connection signs what it sends and checks what it receives (Standard Webhooks).
/// </summary>
public sealed class WebhookSecurityOptions
{
    /// <summary>
    /// The shared secret (<c>whsec_…</c>) that signs outgoing messages and verifies incoming ones. Required unless
    /// <see cref="AllowUnsigned"/> is set. Generate one with <see cref="WebhookSecret.Generate"/>.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>Older secrets still accepted when verifying, so that a secret can be rotated without downtime.</summary>
    public IList<string> PreviousSecrets { get; set; } = [];

    /// <summary>
    /// Accepts messages without a signature (a signature that is present must still be valid). Only for talking to
    /// peers that cannot sign, such as the Python asyncmcp; a warning is logged at start. Default <see langword="false"/>.
    /// </summary>
    public bool AllowUnsigned { get; set; }

    /// <summary>How far a message's <c>webhook-timestamp</c> may be from now, either way. Default 5 minutes.</summary>
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks the settings and builds the signer.</summary>
    /// <param name="owner">The options class that holds these settings, for error messages.</param>
    /// <returns>The signer, or <see langword="null"/> when no secret is set (unsigned operation).</returns>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    internal WebhookSigner? Validate(string owner)
    {
        if (TimestampTolerance <= TimeSpan.Zero || TimestampTolerance > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"{owner}.Security.{nameof(TimestampTolerance)} must be positive and at most one hour (was {TimestampTolerance}).");
        }

        if (string.IsNullOrWhiteSpace(Secret))
        {
            if (!AllowUnsigned)
            {
                throw new ArgumentException($"{owner}.Security.{nameof(Secret)} is required: set a shared 'whsec_' secret (WebhookSecret.Generate() makes one), or set {owner}.Security.{nameof(AllowUnsigned)} to talk to peers that cannot sign.");
            }

            return null;
        }

        var secret = WebhookSecret.Parse(Secret, $"{owner}.Security.{nameof(Secret)}");
        var previous = (PreviousSecrets ?? []).Select((text, i) => WebhookSecret.Parse(text, $"{owner}.Security.{nameof(PreviousSecrets)}[{i}]")).ToArray();
        return new WebhookSigner(secret, previous);
    }
}
