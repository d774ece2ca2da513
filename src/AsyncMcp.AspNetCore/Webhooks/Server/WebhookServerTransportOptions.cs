using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Server;

namespace AsyncMcp.AspNetCore.Webhooks.Server;

/// <summary>Settings of the webhook server transport (<see cref="WebhookServerTransport"/>).</summary>
public sealed class WebhookServerTransportOptions : AsyncMcpServerTransportOptions
{
    /// <summary>How requests are verified and deliveries signed. A secret is required unless unsigned operation is allowed.</summary>
    public WebhookSecurityOptions Security { get; set; } = new();

    /// <summary>
    /// Which client webhook URLs the server may send to. By default http(s) URLs on public addresses only: loopback,
    /// private, link-local, carrier-grade NAT, cloud metadata and unspecified addresses are refused, also in their IPv6
    /// forms (see <see cref="WebhookAddressPolicy.AllowLoopback"/> and <see cref="WebhookAddressPolicy.AllowPrivateNetworks"/>).
    /// </summary>
    public WebhookAddressPolicy AddressPolicy { get; set; } = new();

    /// <summary>The largest request body accepted; larger requests are answered 413. Default 4 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long one delivery attempt to a client's webhook may take before it counts as failed and is retried. Default 10 seconds.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most messages queued for one client's webhook (being delivered, with their retries, or waiting). When a
    /// client's queue is full, what the server says to it waits for room, and the endpoint answers that client's new
    /// requests with 503: a client whose webhook does not keep up slows only itself. Default 1,000.
    /// </summary>
    public int MaxQueuedDeliveriesPerClient { get; set; } = 1000;

    /// <summary>
    /// Whether answers waiting at the same moment for one session's webhook go out together, as one POST whose body is
    /// a JSON array, to clients whose webhook URL asks for it (AsyncMcp's clients do; asyncmcp's do not, and always get
    /// one message per POST). An answer that finds nothing in flight to its webhook still goes out at once, alone.
    /// Default <see langword="true"/>.
    /// </summary>
    public bool BatchDeliveries { get; set; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        const string name = nameof(WebhookServerTransportOptions);
        if (MaxRequestBodyBytes < 1024 || MaxRequestBodyBytes > 256 * 1024 * 1024)
        {
            throw new ArgumentException($"{name}.{nameof(MaxRequestBodyBytes)} must be from 1 KiB to 256 MiB (was {MaxRequestBodyBytes}).");
        }

        if (DeliveryTimeout <= TimeSpan.Zero || DeliveryTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"{name}.{nameof(DeliveryTimeout)} must be positive and at most 10 minutes (was {DeliveryTimeout}).");
        }

        if (MaxQueuedDeliveriesPerClient < 1 || MaxQueuedDeliveriesPerClient > 1_000_000)
        {
            throw new ArgumentException($"{name}.{nameof(MaxQueuedDeliveriesPerClient)} must be from 1 to 1,000,000 (was {MaxQueuedDeliveriesPerClient}).");
        }

        ArgumentNullException.ThrowIfNull(Security, $"{name}.{nameof(Security)}");
        ArgumentNullException.ThrowIfNull(AddressPolicy, $"{name}.{nameof(AddressPolicy)}");
        Security.Validate(name);
        _ = new WebhookAddressGuard(AddressPolicy, $"{name}.{nameof(AddressPolicy)}");
    }
}
