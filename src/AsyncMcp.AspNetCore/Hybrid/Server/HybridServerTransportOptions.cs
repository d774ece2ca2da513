using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Messaging;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>Settings of the hybrid transport: Streamable HTTP, with webhook delivery for long-running tools.</summary>
public sealed class HybridServerTransportOptions
{
    /// <summary>
    /// Names of tools whose final result goes to the client's webhook, besides tools marked with
    /// <see cref="WebhookDeliveryAttribute"/>.
    /// </summary>
    public IList<string> WebhookTools { get; set; } = [];

    /// <summary>How POSTed requests are answered: an SSE stream (the default) or one JSON body.</summary>
    public HybridResponseMode ResponseMode { get; set; } = HybridResponseMode.Sse;

    /// <summary>How webhook deliveries are signed (Standard Webhooks). A secret is required unless unsigned operation is allowed.</summary>
    public WebhookSecurityOptions Security { get; set; } = new();

    /// <summary>
    /// Which client webhook URLs the server may send to. By default http(s) URLs on public addresses only: loopback,
    /// private, link-local, carrier-grade NAT, cloud metadata and unspecified addresses are refused, also in their IPv6
    /// forms (see <see cref="WebhookAddressPolicy.AllowLoopback"/> and <see cref="WebhookAddressPolicy.AllowPrivateNetworks"/>).
    /// </summary>
    public WebhookAddressPolicy AddressPolicy { get; set; } = new();

    /// <summary>How long one delivery attempt may take before it counts as failed and is retried. Default 10 seconds.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How failed deliveries are retried (exponential backoff with jitter) before the result falls back to the stream.</summary>
    public SendRetryOptions SendRetry { get; set; } = new();

    /// <summary>
    /// How long a result that could be delivered neither by webhook nor on an open stream is kept for its session (or,
    /// for sessionless requests, for its webhook URL), waiting for the client to come back. Default 15 minutes.
    /// </summary>
    public TimeSpan UndeliveredResultRetention { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The most undelivered results kept per session; the oldest is discarded (and logged) beyond it. Default 100.</summary>
    public int MaxUndeliveredResultsPerSession { get; set; } = 100;

    /// <summary>
    /// The most webhook calls that may run at once on this server, across all clients (a call counts until its result
    /// has been handed over). Beyond it a webhook tool's <c>tools/call</c> is answered with a JSON-RPC error
    /// (<c>-32000</c>) that names this option. Default 1000.
    /// </summary>
    public int MaxConcurrentWebhookCalls { get; set; } = 1000;

    /// <summary>
    /// The most webhook calls that may run at once for one client (a session, or a sessionless client's webhook URL).
    /// Beyond it a webhook tool's <c>tools/call</c> is answered with a JSON-RPC error (<c>-32000</c>) that names this
    /// option. Default 100.
    /// </summary>
    public int MaxConcurrentWebhookCallsPerSession { get; set; } = 100;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        const string name = nameof(HybridServerTransportOptions);
        ArgumentNullException.ThrowIfNull(WebhookTools, $"{name}.{nameof(WebhookTools)}");
        ArgumentNullException.ThrowIfNull(Security, $"{name}.{nameof(Security)}");
        ArgumentNullException.ThrowIfNull(AddressPolicy, $"{name}.{nameof(AddressPolicy)}");
        ArgumentNullException.ThrowIfNull(SendRetry, $"{name}.{nameof(SendRetry)}");
        if (WebhookTools.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"{name}.{nameof(WebhookTools)} must not contain empty tool names.");
        }

        if (!Enum.IsDefined(ResponseMode))
        {
            throw new ArgumentException($"{name}.{nameof(ResponseMode)} must be {nameof(HybridResponseMode.Sse)} or {nameof(HybridResponseMode.Json)} (was {ResponseMode}).");
        }

        if (DeliveryTimeout <= TimeSpan.Zero || DeliveryTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"{name}.{nameof(DeliveryTimeout)} must be positive and at most 10 minutes (was {DeliveryTimeout}).");
        }

        if (UndeliveredResultRetention <= TimeSpan.Zero || UndeliveredResultRetention > TimeSpan.FromDays(7))
        {
            throw new ArgumentException($"{name}.{nameof(UndeliveredResultRetention)} must be positive and at most 7 days (was {UndeliveredResultRetention}).");
        }

        if (MaxUndeliveredResultsPerSession < 1 || MaxUndeliveredResultsPerSession > 100_000)
        {
            throw new ArgumentException($"{name}.{nameof(MaxUndeliveredResultsPerSession)} must be from 1 to 100000 (was {MaxUndeliveredResultsPerSession}).");
        }

        if (MaxConcurrentWebhookCalls < 1 || MaxConcurrentWebhookCalls > 1_000_000)
        {
            throw new ArgumentException($"{name}.{nameof(MaxConcurrentWebhookCalls)} must be from 1 to 1000000 (was {MaxConcurrentWebhookCalls}).");
        }

        if (MaxConcurrentWebhookCallsPerSession < 1 || MaxConcurrentWebhookCallsPerSession > MaxConcurrentWebhookCalls)
        {
            throw new ArgumentException($"{name}.{nameof(MaxConcurrentWebhookCallsPerSession)} must be from 1 to {nameof(MaxConcurrentWebhookCalls)} ({MaxConcurrentWebhookCalls}) (was {MaxConcurrentWebhookCallsPerSession}).");
        }

        SendRetry.Validate(name);
        Security.Validate(name);
        _ = new WebhookAddressGuard(AddressPolicy, $"{name}.{nameof(AddressPolicy)}");
    }
}
