using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>Thrown when a webhook URL, or an address it resolves to, is refused by the <see cref="WebhookAddressPolicy"/>.</summary>
public sealed class WebhookAddressRefusedException : Messaging.AsyncMcpTransportException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the address was refused.</param>
    public WebhookAddressRefusedException(string message)
        : base(message, isTransient: false)
    {
    }
}

/// <summary>Applies a <see cref="WebhookAddressPolicy"/>: to a URL when it is named, and to each connection as it is made.</summary>
internal sealed class WebhookAddressGuard
{
    private readonly HashSet<string> _schemes;
    private readonly string[] _allowedHosts;
    private readonly string[] _deniedHosts;
    private readonly IPNetwork[] _allowedNetworks;
    private readonly IPNetwork[] _deniedNetworks;
    private readonly bool _allowLoopback;
    private readonly bool _allowPrivateNetworks;
    private readonly string _owner;

    /// <param name="policy">The policy.</param>
    /// <param name="owner">Where the policy is set, such as <c>WebhookServerTransportOptions.AddressPolicy</c>, for messages naming its options.</param>
    public WebhookAddressGuard(WebhookAddressPolicy policy, string owner)
    {
        ArgumentNullException.ThrowIfNull(policy, owner);
        _owner = owner;
        _allowLoopback = policy.AllowLoopback;
        _allowPrivateNetworks = policy.AllowPrivateNetworks;
        if (policy.AllowedSchemes is null || policy.AllowedSchemes.Count == 0)
        {
            throw new ArgumentException($"{owner}.{nameof(WebhookAddressPolicy.AllowedSchemes)} must name at least one scheme.");
        }

        _schemes = new HashSet<string>(policy.AllowedSchemes.Select(s => s.ToLowerInvariant()), StringComparer.Ordinal);
        if (_schemes.Any(s => s is not ("http" or "https")))
        {
            throw new ArgumentException($"{owner}.{nameof(WebhookAddressPolicy.AllowedSchemes)} may hold only 'http' and 'https'.");
        }

        _allowedHosts = [.. (policy.AllowedHosts ?? []).Select(h => h.ToLowerInvariant())];
        _deniedHosts = [.. (policy.DeniedHosts ?? []).Select(h => h.ToLowerInvariant())];
        _allowedNetworks = ParseNetworks(policy.AllowedNetworks, $"{owner}.{nameof(WebhookAddressPolicy.AllowedNetworks)}");
        _deniedNetworks = ParseNetworks(policy.DeniedNetworks, $"{owner}.{nameof(WebhookAddressPolicy.DeniedNetworks)}");
    }

    /// <summary>How long <see cref="CheckNamedAsync"/> reuses its verdict on a URL.</summary>
    internal static readonly TimeSpan NamedVerdictLifetime = TimeSpan.FromSeconds(30);

    /// <summary>How many verdicts <see cref="CheckNamedAsync"/> stores before it starts afresh.</summary>
    internal const int NamedVerdictsKept = 1024;

    private readonly ConcurrentDictionary<string, (string? Refusal, long CheckedAt)> _namedVerdicts = new(StringComparer.Ordinal);
    private int _namedVerdictsStored;

    /// <summary>The clock that ages <see cref="CheckNamedAsync"/>'s verdicts; a test replaces it.</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Resolves a host name to its addresses; a test replaces it to stand in for DNS.</summary>
    internal Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; set; } = static (host, cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);

    /// <summary>Called with each address just before a socket connects to it; a test counts outgoing connections with it.</summary>
    internal Action<IPEndPoint>? Connecting { get; set; }

    /// <summary>Checks a URL and the addresses its host resolves to now.</summary>
    /// <param name="address">The webhook URL.</param>
    /// <param name="cancellationToken">Cancels DNS resolution.</param>
    /// <returns><see langword="null"/> if allowed; otherwise why not.</returns>
    public async Task<string?> CheckAsync(string address, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            return $"'{address}' is not an absolute URL.";
        }

        if (CheckUri(uri) is { } refusal)
        {
            return refusal;
        }

        try
        {
            await ResolveAllowedAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (WebhookAddressRefusedException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// <see cref="CheckAsync"/> for a URL a request names, reusing the verdict on the same URL for
    /// <see cref="NamedVerdictLifetime"/>: a session-less client names its webhook on every request, and checking it
    /// afresh cost a URL parse, the host lists and a DNS lookup per request. Reusing a verdict is safe because every
    /// connection is checked again as it is made (<see cref="ConnectAsync"/>), whatever was decided here; a failed
    /// lookup is not remembered.
    /// </summary>
    /// <param name="address">The webhook URL.</param>
    /// <param name="cancellationToken">Cancels DNS resolution.</param>
    /// <returns><see langword="null"/> if allowed; otherwise why not.</returns>
    public async Task<string?> CheckNamedAsync(string address, CancellationToken cancellationToken)
    {
        var now = Time.GetTimestamp();
        if (_namedVerdicts.TryGetValue(address, out var known) && Time.GetElapsedTime(known.CheckedAt, now) < NamedVerdictLifetime)
        {
            return known.Refusal;
        }

        var refusal = await CheckAsync(address, cancellationToken).ConfigureAwait(false);
        if (Interlocked.Increment(ref _namedVerdictsStored) > NamedVerdictsKept)
        {
            // Many URLs (or many renewals): start afresh rather than keep an unbounded table.
            _namedVerdicts.Clear();
            Volatile.Write(ref _namedVerdictsStored, 1);
        }

        _namedVerdicts[address] = (refusal, now);
        return refusal;
    }

    /// <summary>Checks the parts of a URL that need no DNS: scheme, user info and host name.</summary>
    public string? CheckUri(Uri uri)
    {
        if (!_schemes.Contains(uri.Scheme))
        {
            return $"The scheme '{uri.Scheme}' is not allowed (allowed: {string.Join(", ", _schemes)}).";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "Webhook URLs may not carry user credentials.";
        }

        var host = uri.IdnHost.ToLowerInvariant().TrimEnd('.');
        if (_deniedHosts.Any(pattern => HostMatches(host, pattern)))
        {
            return $"The host '{host}' is refused by the reply-address policy (a metadata service).";
        }

        if (_allowedHosts.Length > 0 && !_allowedHosts.Any(pattern => HostMatches(host, pattern)))
        {
            return $"The host '{host}' is not in the reply-address allowlist.";
        }

        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal) && CheckAddress(literal) is { } refusal)
        {
            return refusal;
        }

        return null;
    }

    /// <summary>Resolves a host and returns its addresses, refusing if any resolved address is not allowed.</summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Resolve(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new Messaging.AsyncMcpTransportException($"The host '{host}' could not be resolved: {ex.Message}", isTransient: true, ex);
            }
        }

        if (addresses.Length == 0)
        {
            throw new Messaging.AsyncMcpTransportException($"The host '{host}' resolved to no address.", isTransient: true);
        }

        // Every address must pass: otherwise a name with one public and one internal address could be steered.
        foreach (var address in addresses)
        {
            if (CheckAddress(address) is { } refusal)
            {
                throw new WebhookAddressRefusedException($"'{host}' resolves to {address}: {refusal}");
            }
        }

        return addresses;
    }

    /// <summary>
    /// An HTTP client whose every connection is made by <see cref="ConnectAsync"/>, so each resolved address is
    /// checked; redirects are not followed (one could point anywhere) and no proxy is used (it would connect instead).
    /// Timeouts are the caller's, per request.
    /// </summary>
    public HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        ConnectCallback = ConnectAsync,
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// The connect step of the HTTP handler, the one place every outgoing connection passes: checks the whole policy on
    /// the URL (scheme, user info, host lists), resolves the host itself, checks every address and connects only to an
    /// allowed one, so that no request leaves for a refused address whoever named it and whatever DNS answered earlier.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(System.Net.Http.SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        // Connections are pooled by scheme, host and port, so the request that opens one speaks for all that reuse it.
        if (context.InitialRequestMessage.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            throw new WebhookAddressRefusedException("A webhook request without an absolute URL was refused.");
        }

        if (CheckUri(uri) is { } refusal)
        {
            throw new WebhookAddressRefusedException($"{uri.GetLeftPart(UriPartial.Authority)} is refused: {refusal}");
        }

        var addresses = await ResolveAllowedAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                var endPoint = new IPEndPoint(address, context.DnsEndPoint.Port);
                Connecting?.Invoke(endPoint);
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                last = ex;
                if (ex is OperationCanceledException)
                {
                    throw;
                }
            }
        }

        throw new HttpRequestException($"Could not connect to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}.", last);
    }

    private string? CheckAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (CheckRanges(address) is { } refusal)
        {
            return $"the address {address} {refusal}";
        }

        if (_allowedNetworks.Length > 0 && !_allowedNetworks.Any(n => n.Contains(address)))
        {
            return $"the address {address} is not in an allowed network.";
        }

        // A NAT64 gateway, a 6to4 relay or a Teredo relay would carry the connection on to the IPv4 address inside.
        foreach (var (embedded, form) in SpecialAddresses.EmbeddedIPv4(address))
        {
            if (CheckRanges(embedded) is { } inner)
            {
                return $"the address {address} embeds the IPv4 address {embedded} ({form}), which {inner}";
            }
        }

        return null;
    }

    /// <summary>Why an address is refused by its ranges (a phrase that follows "the address x"), or <see langword="null"/>.</summary>
    private string? CheckRanges(IPAddress address)
    {
        var (kind, range) = SpecialAddresses.Classify(address);
        switch (kind)
        {
            case AddressKind.Unspecified:
                return $"is unspecified ({range}), never a webhook address.";
            case AddressKind.Multicast:
                return $"is a multicast address ({range}), never a webhook address.";
            case AddressKind.Reserved:
                return $"is reserved or broadcast ({range}), never a webhook address.";
        }

        foreach (var network in _deniedNetworks)
        {
            if (network.Contains(address))
            {
                return $"is in a refused network ({network}; link-local and cloud metadata are refused by default).";
            }
        }

        return kind switch
        {
            AddressKind.Loopback when !_allowLoopback =>
                $"is a loopback address, refused by default: set {_owner}.{nameof(WebhookAddressPolicy.AllowLoopback)} to allow loopback webhooks (asyncmcp serve: --allow-loopback-webhooks).",
            AddressKind.Private when !_allowPrivateNetworks =>
                $"is in the private network {range}, refused by default: set {_owner}.{nameof(WebhookAddressPolicy.AllowPrivateNetworks)} to allow private networks (asyncmcp serve: --allow-private-webhooks).",
            _ => null,
        };
    }

    private static bool HostMatches(string host, string pattern) =>
        pattern.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(pattern[1..], StringComparison.Ordinal) && host.Length > pattern.Length - 1
            : string.Equals(host, pattern, StringComparison.Ordinal);

    private static IPNetwork[] ParseNetworks(IList<string>? networks, string option)
    {
        var parsed = new List<IPNetwork>();
        foreach (var text in networks ?? [])
        {
            if (!IPNetwork.TryParse(text, out var network))
            {
                throw new ArgumentException($"{option} holds '{text}', which is not a network in CIDR form (such as 10.0.0.0/8).");
            }

            parsed.Add(network);
        }

        return [.. parsed];
    }
}
