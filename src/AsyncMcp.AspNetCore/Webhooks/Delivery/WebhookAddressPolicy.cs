namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>
/// Which client-supplied webhook URLs a server may send to: a defence against server-side request forgery. A URL is
/// allowed only if its scheme is allowed, its host matches <see cref="AllowedHosts"/> (when set) and is not in
/// <see cref="DeniedHosts"/>, and every address it resolves to is in <see cref="AllowedNetworks"/> (when set) and
/// in none of <see cref="DeniedNetworks"/>. Addresses are checked when the URL is first named and again on every
/// connection, after DNS resolution, so a name that later resolves elsewhere is still refused.
/// </summary>
public sealed class WebhookAddressPolicy
{
    /// <summary>Link-local and cloud metadata addresses, refused by default.</summary>
    public static IReadOnlyList<string> DefaultDeniedNetworks { get; } =
    [
        "169.254.0.0/16",       // IPv4 link-local, including 169.254.169.254 (AWS, Azure, GCP, OpenStack metadata)
        "fe80::/10",            // IPv6 link-local
        "fd00:ec2::254/128",    // AWS metadata over IPv6
        "100.100.100.200/32",   // Alibaba Cloud metadata
        "0.0.0.0/8",            // "this network": connects to the local host on some systems
        "::/128",
    ];

    /// <summary>Host names of metadata services, refused by default.</summary>
    public static IReadOnlyList<string> DefaultDeniedHosts { get; } = ["metadata.google.internal", "metadata.goog", "metadata"];

    /// <summary>The URL schemes allowed. Default <c>https</c> and <c>http</c>.</summary>
    public IList<string> AllowedSchemes { get; set; } = ["https", "http"];

    /// <summary>
    /// Host names allowed: exact names, or <c>*.example.com</c> for any subdomain. Empty (the default) allows any host
    /// that passes the network checks.
    /// </summary>
    public IList<string> AllowedHosts { get; set; } = [];

    /// <summary>Host names refused, in the same forms as <see cref="AllowedHosts"/>. Default <see cref="DefaultDeniedHosts"/>.</summary>
    public IList<string> DeniedHosts { get; set; } = [.. DefaultDeniedHosts];

    /// <summary>Networks (CIDR, such as <c>10.0.0.0/8</c>) that resolved addresses must be in. Empty (the default) allows any network not denied.</summary>
    public IList<string> AllowedNetworks { get; set; } = [];

    /// <summary>Networks (CIDR) that no resolved address may be in. Default <see cref="DefaultDeniedNetworks"/>.</summary>
    public IList<string> DeniedNetworks { get; set; } = [.. DefaultDeniedNetworks];
}
