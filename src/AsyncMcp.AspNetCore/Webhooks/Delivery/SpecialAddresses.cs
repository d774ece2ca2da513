using System.Net;
using System.Net.Sockets;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>What kind of address an IP address is, for the reply-address policy.</summary>
internal enum AddressKind
{
    /// <summary>An ordinary address.</summary>
    Public,

    /// <summary><c>127.0.0.0/8</c>, <c>::1</c>.</summary>
    Loopback,

    /// <summary>Private networks, carrier-grade NAT, IPv6 unique local and site-local.</summary>
    Private,

    /// <summary><c>0.0.0.0/8</c>, <c>::</c>: the local host on some systems.</summary>
    Unspecified,

    /// <summary><c>224.0.0.0/4</c>, <c>ff00::/8</c>.</summary>
    Multicast,

    /// <summary><c>240.0.0.0/4</c>, including the broadcast address.</summary>
    Reserved,
}

/// <summary>
/// The special-purpose address ranges the reply-address policy knows, and the IPv4 addresses that IPv6 addresses
/// embed (a NAT64 gateway, a 6to4 relay or a Teredo relay would connect to them).
/// </summary>
internal static class SpecialAddresses
{
    private static readonly (IPNetwork Network, AddressKind Kind)[] s_ranges =
    [
        (IPNetwork.Parse("0.0.0.0/8"), AddressKind.Unspecified),
        (IPNetwork.Parse("::/128"), AddressKind.Unspecified),
        (IPNetwork.Parse("224.0.0.0/4"), AddressKind.Multicast),
        (IPNetwork.Parse("ff00::/8"), AddressKind.Multicast),
        (IPNetwork.Parse("240.0.0.0/4"), AddressKind.Reserved),
        (IPNetwork.Parse("127.0.0.0/8"), AddressKind.Loopback),
        (IPNetwork.Parse("::1/128"), AddressKind.Loopback),
        (IPNetwork.Parse("10.0.0.0/8"), AddressKind.Private),
        (IPNetwork.Parse("172.16.0.0/12"), AddressKind.Private),
        (IPNetwork.Parse("192.168.0.0/16"), AddressKind.Private),
        (IPNetwork.Parse("100.64.0.0/10"), AddressKind.Private),
        (IPNetwork.Parse("fc00::/7"), AddressKind.Private),
        (IPNetwork.Parse("fec0::/10"), AddressKind.Private),
    ];

    /// <summary>The kind of an address and the range that made it so (<see langword="null"/> for a public address).</summary>
    public static (AddressKind Kind, IPNetwork? Range) Classify(IPAddress address)
    {
        foreach (var (network, kind) in s_ranges)
        {
            if (network.Contains(address))
            {
                return (kind, network);
            }
        }

        return (AddressKind.Public, null);
    }

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries, with the name of the form: IPv4-compatible (<c>::a.b.c.d</c>),
    /// IPv4-translated (<c>::ffff:0:a.b.c.d</c>), NAT64 (<c>64:ff9b::/96</c>, <c>64:ff9b:1::/48</c>), 6to4
    /// (<c>2002::/16</c>) and Teredo (<c>2001::/32</c>: its server and its obfuscated client). IPv4-mapped addresses are
    /// the caller's: they are IPv4 addresses outright.
    /// </summary>
    public static List<(IPAddress Address, string Form)> EmbeddedIPv4(IPAddress address)
    {
        var found = new List<(IPAddress, string)>();
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6)
        {
            return found;
        }

        var b = address.GetAddressBytes();
        if (AllZero(b, 0, 12) && !(AllZero(b, 12, 3) && b[15] <= 1))
        {
            // ::a.b.c.d, but not :: or ::1 (whose last bytes are 0.0.0.0 and 0.0.0.1).
            found.Add((Last4(b), "IPv4-compatible"));
        }
        else if (AllZero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            found.Add((Last4(b), "IPv4-translated"));
        }
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && AllZero(b, 4, 8))
        {
            found.Add((Last4(b), "NAT64"));
        }
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01)
        {
            found.Add((Last4(b), "local-use NAT64"));
        }
        else if (b[0] == 0x20 && b[1] == 0x02)
        {
            found.Add((new IPAddress(b.AsSpan(2, 4)), "6to4"));
        }
        else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        {
            found.Add((new IPAddress(b.AsSpan(4, 4)), "Teredo server"));
            found.Add((new IPAddress([(byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15]]), "Teredo client"));
        }

        return found;
    }

    private static IPAddress Last4(byte[] b) => new(b.AsSpan(12, 4));

    private static bool AllZero(byte[] b, int start, int count) => b.AsSpan(start, count).IndexOfAnyExcept((byte)0) < 0;
}
