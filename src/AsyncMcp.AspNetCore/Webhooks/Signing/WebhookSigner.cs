using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AsyncMcp.AspNetCore.Webhooks.Signing;

/// <summary>
/// Signs and verifies messages with the Standard Webhooks scheme: HMAC-SHA256 over
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>, sent as <c>webhook-signature: v1,&lt;base64&gt;</c>.
/// </summary>
internal sealed class WebhookSigner
{
    private const string VersionPrefix = "v1,";
    private readonly WebhookSecret _secret;
    private readonly WebhookSecret[] _accepted;

    /// <summary>Creates a signer.</summary>
    /// <param name="secret">The secret that signs.</param>
    /// <param name="previousSecrets">Older secrets still accepted when verifying (during a rotation).</param>
    public WebhookSigner(WebhookSecret secret, IEnumerable<WebhookSecret>? previousSecrets = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _secret = secret;
        _accepted = [secret, .. previousSecrets ?? []];
    }

    /// <summary>Computes the <c>webhook-signature</c> header value for a message.</summary>
    /// <param name="messageId">The <c>webhook-id</c>.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c>.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <returns><c>v1,</c> followed by the base64 signature.</returns>
    public string Sign(string messageId, DateTimeOffset timestamp, ReadOnlySpan<byte> body) =>
        VersionPrefix + Convert.ToBase64String(Compute(_secret, messageId, timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), body));

    /// <summary>Whether any <c>v1</c> signature in a <c>webhook-signature</c> header matches the message under an accepted secret.</summary>
    /// <param name="messageId">The <c>webhook-id</c> as received.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> as received (not reformatted).</param>
    /// <param name="signatureHeader">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The exact body bytes.</param>
    /// <returns><see langword="true"/> if a signature matches.</returns>
    public bool Matches(string messageId, string timestamp, string signatureHeader, ReadOnlySpan<byte> body)
    {
        Span<byte> candidate = stackalloc byte[32];
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!part.StartsWith(VersionPrefix, StringComparison.Ordinal) ||
                !Convert.TryFromBase64String(part[VersionPrefix.Length..], candidate, out var written) ||
                written != 32)
            {
                continue;
            }

            foreach (var secret in _accepted)
            {
                if (CryptographicOperations.FixedTimeEquals(candidate, Compute(secret, messageId, timestamp, body)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static byte[] Compute(WebhookSecret secret, string messageId, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return HMACSHA256.HashData(secret.Key, content);
    }
}
