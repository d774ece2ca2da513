using System.Security.Cryptography;

namespace AsyncMcp.AspNetCore.Webhooks.Signing;

/// <summary>
/// A Standard Webhooks signing secret: <c>whsec_</c> followed by the base64 of 24 to 64 random bytes. Both sides
/// of a webhook connection hold the same secret.
/// </summary>
public sealed class WebhookSecret
{
    /// <summary>The prefix of the text form.</summary>
    public const string Prefix = "whsec_";

    private WebhookSecret(byte[] key) => Key = key;

    /// <summary>The HMAC-SHA256 key.</summary>
    internal byte[] Key { get; }

    /// <summary>Creates a new random secret (32 bytes) in its text form.</summary>
    /// <returns>A secret such as <c>whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw</c>.</returns>
    public static string Generate() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Reads a secret from its text form.</summary>
    /// <param name="text">The secret, with or without the <c>whsec_</c> prefix.</param>
    /// <param name="optionName">The option it came from, for the error message.</param>
    /// <returns>The secret.</returns>
    /// <exception cref="ArgumentException">The text is not base64, or the key is shorter than 16 bytes.</exception>
    public static WebhookSecret Parse(string text, string optionName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text, optionName);
        var encoded = text.StartsWith(Prefix, StringComparison.Ordinal) ? text[Prefix.Length..] : text;
        byte[] key;
        try
        {
            key = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{optionName} must be a Standard Webhooks secret: '{Prefix}' followed by base64 (generate one with WebhookSecret.Generate()).");
        }

        if (key.Length < 16)
        {
            throw new ArgumentException($"{optionName} is {key.Length} bytes long; a signing secret must have at least 16 random bytes.");
        }

        return new WebhookSecret(key);
    }
}
