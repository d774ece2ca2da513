namespace AsyncMcp.AspNetCore.Webhooks.Signing;

/// <summary>The headers of the Standard Webhooks signature scheme.</summary>
internal static class StandardWebhookHeaders
{
    /// <summary>A unique id of the message, the same on every retry of it.</summary>
    public const string Id = "webhook-id";

    /// <summary>Unix time in whole seconds at which this attempt was signed.</summary>
    public const string Timestamp = "webhook-timestamp";

    /// <summary>Space-separated signatures, each <c>v1,</c> followed by the base64 HMAC-SHA256.</summary>
    public const string Signature = "webhook-signature";
}
