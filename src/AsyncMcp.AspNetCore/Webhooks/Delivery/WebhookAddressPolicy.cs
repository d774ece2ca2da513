namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>
/// Which client-supplied webhook URLs a server may send to: a defence against server-side request forgery. A URL is
/// allowed only if its scheme is allowed, its host matches <see cref="AllowedHosts"/> (when set) and is not in
/// <see cref="DeniedHosts"/>, and every address it resolves to is a public address (loopback and private networks
/// only when <see cref="AllowLoopback"/> or <see cref="AllowPrivateNetworks"/> say so), in <see cref="AllowedNetworks"/>
/// (when set) and in none of <see cref="DeniedNetworks"/>. IPv6 addresses that embed an IPv4 address (IPv4-mapped and
/// IPv4-compatible, NAT64, 6to4, Teredo) are refused when the IPv4 address would be. Addresses are checked when the
/// URL is first named and again on every connection, after DNS resolution, so a name that later resolves elsewhere is
/// still refused.
/// </summary>
/// <remarks>
/// Never allowed, whatever the settings: unspecified addresses (<c>0.0.0.0/8</c>, <c>::</c>), multicast
/// (<c>224.0.0.0/4</c>, <c>ff00::/8</c>), and the reserved block <c>240.0.0.0/4</c> with the broadcast address.
/// </remarks>
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

    /// <summary>
    /// Whether webhooks on loopback addresses (<c>127.0.0.0/8</c>, <c>::1</c>, and their IPv6 forms), however the URL
    /// spells them (<c>localhost</c>, <c>127.1</c>, <c>2130706433</c>, a name in the hosts file), may be sent to.
    /// Default <see langword="false"/>: a client could otherwise reach services listening on the server's own host.
    /// Set it for development, tests and demos where client and server share a machine.
    /// </summary>
    public bool AllowLoopback { get; set; }

    /// <summary>
    /// Whether webhooks in private networks may be sent to: <c>10.0.0.0/8</c>, <c>172.16.0.0/12</c>,
    /// <c>192.168.0.0/16</c>, carrier-grade NAT <c>100.64.0.0/10</c>, IPv6 unique local <c>fc00::/7</c> and
    /// site-local <c>fec0::/10</c>, and their IPv6 forms. Default <see langword="false"/>: a client could otherwise
    /// reach internal services. Set it when clients' webhooks live on the server's internal network (combine with
    /// <see cref="AllowedNetworks"/> to allow only some of it). <see cref="DeniedNetworks"/> still apply.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }
}
