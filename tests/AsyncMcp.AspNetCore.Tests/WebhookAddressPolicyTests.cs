using System.Net;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Delivery;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// The reply-address policy's defaults against server-side request forgery: loopback in every spelling, private
/// networks, and the IPv6 forms that carry a refused IPv4 address are refused unless explicitly allowed; unspecified,
/// multicast, broadcast, link-local and metadata addresses are refused whatever the options say.
/// </summary>
public sealed class WebhookAddressPolicyTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    /// <summary>The spellings of 127.0.0.1 that reached a listener before loopback was refused by default, port left to the test.</summary>
    public static TheoryData<string> LoopbackSpellings => new() { "127.0.0.1", "localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1" };

    /// <summary>Addresses and the option that allows them: "loopback", "private", or "never".</summary>
    public static TheoryData<string, string> RefusedByDefault => new()
    {
        { "http://127.0.0.1/hook", "loopback" },
        { "http://127.255.0.9/hook", "loopback" },
        { "http://2130706433/hook", "loopback" },
        { "http://0x7f000001/hook", "loopback" },
        { "http://0177.0.0.1/hook", "loopback" },
        { "http://127.1/hook", "loopback" },
        { "http://localhost/hook", "loopback" },
        { "http://[::1]/hook", "loopback" },
        { "http://[::ffff:127.0.0.1]/hook", "loopback" },
        { "http://[::127.0.0.1]/hook", "loopback" },
        { "http://[64:ff9b::127.0.0.1]/hook", "loopback" },
        { "http://[2002:7f00:1::1]/hook", "loopback" },
        { "http://10.0.0.1/hook", "private" },
        { "http://172.16.5.4/hook", "private" },
        { "http://192.168.0.1/hook", "private" },
        { "http://100.64.0.1/hook", "private" },
        { "http://[fd12:3456::1]/hook", "private" },
        { "http://[::ffff:10.0.0.1]/hook", "private" },
        { "http://[::ffff:0:192.168.0.1]/hook", "private" },
        { "http://[64:ff9b:1::10.1.2.3]/hook", "private" },
        { "http://[2002:c0a8:1::1]/hook", "private" },
        { "http://169.254.169.254/latest/meta-data/", "never" },
        { "http://[::ffff:169.254.169.254]/latest/meta-data/", "never" },
        { "http://[64:ff9b::169.254.169.254]/latest/meta-data/", "never" },
        { "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "never" },
        { "http://[2002:a9fe:a9fe::1]/latest/meta-data/", "never" },
        { "http://[::169.254.169.254]/latest/meta-data/", "never" },
        { "http://[2001:0:4136:e378:8000:63bf:5601:5601]/hook", "never" },  // Teredo, client 169.254.169.254
        { "http://[2001:0:a9fe:a9fe::1]/hook", "never" },                  // Teredo, server 169.254.169.254
        { "http://100.100.100.200/", "never" },
        { "http://[fe80::1]/hook", "never" },
        { "http://0.0.0.0/hook", "never" },
        { "http://[::]/hook", "never" },
        { "http://224.0.0.1/hook", "never" },
        { "http://239.255.255.250/hook", "never" },
        { "http://[ff02::1]/hook", "never" },
        { "http://255.255.255.255/hook", "never" },
        { "http://240.0.0.1/hook", "never" },
    };

    [Theory]
    [MemberData(nameof(RefusedByDefault))]
    public async Task Internal_addresses_are_refused_by_default_and_allowed_only_by_their_option(string url, string allowedBy)
    {
        var byDefault = await Guard(new WebhookAddressPolicy()).CheckAsync(url, Timeout);
        var withLoopback = await Guard(new WebhookAddressPolicy { AllowLoopback = true }).CheckAsync(url, Timeout);
        var withPrivate = await Guard(new WebhookAddressPolicy { AllowPrivateNetworks = true }).CheckAsync(url, Timeout);
        var withBoth = await Guard(new WebhookAddressPolicy { AllowLoopback = true, AllowPrivateNetworks = true }).CheckAsync(url, Timeout);

        Assert.NotNull(byDefault);
        Assert.NotNull(allowedBy == "loopback" ? withPrivate : withLoopback);
        switch (allowedBy)
        {
            case "loopback":
                Assert.Contains("Policy.AllowLoopback", byDefault, StringComparison.Ordinal);
                Assert.Contains("--allow-loopback-webhooks", byDefault, StringComparison.Ordinal);
                Assert.Null(withLoopback);
                Assert.Null(withBoth);
                break;
            case "private":
                Assert.Contains("Policy.AllowPrivateNetworks", byDefault, StringComparison.Ordinal);
                Assert.Contains("--allow-private-webhooks", byDefault, StringComparison.Ordinal);
                Assert.Null(withPrivate);
                Assert.Null(withBoth);
                break;
            default:
                Assert.NotNull(withBoth);
                Assert.DoesNotContain("Policy.Allow", withBoth, StringComparison.Ordinal);
                break;
        }
    }

    [Theory]
    [InlineData("http://93.184.216.34/hook")]
    [InlineData("http://[2606:4700:4700::1111]/hook")]
    [InlineData("http://[64:ff9b::93.184.216.34]/hook")]
    [InlineData("http://[2002:5db8:d822::1]/hook")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook")]  // Teredo, RFC 4380's example: public server and client
    public async Task Public_addresses_and_IPv6_forms_of_public_IPv4_addresses_are_allowed(string url)
    {
        Assert.Null(await Guard(new WebhookAddressPolicy()).CheckAsync(url, Timeout));
    }

    [Fact]
    public async Task The_embedded_address_is_checked_against_the_denied_networks_too()
    {
        // A network the operator denies is denied in its NAT64 and 6to4 forms as well.
        var guard = Guard(new WebhookAddressPolicy { DeniedNetworks = ["93.184.216.0/24"] });

        Assert.Contains("93.184.216.34 (NAT64)", await guard.CheckAsync("http://[64:ff9b::93.184.216.34]/hook", Timeout), StringComparison.Ordinal);
        Assert.Contains("(6to4)", await guard.CheckAsync("http://[2002:5db8:d822::1]/hook", Timeout), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LoopbackSpellings))]
    public async Task A_signed_initialize_naming_a_loopback_webhook_is_refused_at_once_and_nothing_reaches_the_listener(string host)
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowLoopback = false);
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);
        var connections = 0;
        harness.Server.AddressGuard.Connecting = _ => Interlocked.Increment(ref connections);

        var (status, json, _) = await peer.PostAsync(peer.Initialize(1, OnHost(peer.WebhookUrl, host)));

        Assert.Equal(403, status);
        Assert.Equal(1, (int?)json!["id"]);
        Assert.Equal("reply_address_refused", (string?)json["error"]!["data"]!["reason"]);
        var message = (string)json["error"]!["message"]!;
        Assert.Contains("reply-address policy", message, StringComparison.Ordinal);
        Assert.Contains("WebhookServerTransportOptions.AddressPolicy.AllowLoopback", message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Server.Dispatcher.SessionCount);
        Assert.Equal(0, Volatile.Read(ref connections));
        Assert.Empty(peer.Deliveries);
    }

    [Theory]
    [MemberData(nameof(LoopbackSpellings))]
    public async Task With_loopback_allowed_every_spelling_reaches_the_listener(string host)
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowLoopback = true);
        await using var peer = await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);

        await peer.OpenSessionAsync(OnHost(peer.WebhookUrl, host));

        var answer = await peer.WaitForDeliveryAsync(1);
        Assert.Equal("asyncmcp-test-server", (string?)answer.Body["result"]!["serverInfo"]!["name"]);
    }

    [Fact]
    public async Task A_name_from_the_hosts_file_that_means_loopback_is_refused_by_default_and_reaches_the_listener_when_allowed()
    {
        var name = HostsFileLoopbackName();
        Assert.SkipWhen(name is null, "The hosts file names no loopback address other than localhost.");

        await using (var refusing = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowLoopback = false))
        {
            await using var peer = await RawWebhookPeer.StartAsync(refusing.Url, refusing.Secret);
            var (status, json, _) = await peer.PostAsync(peer.Initialize(1, OnHost(peer.WebhookUrl, name!)));
            Assert.Equal(403, status);
            Assert.Contains($"'{name}' resolves to", (string?)json!["error"]!["message"], StringComparison.Ordinal);
            Assert.Contains("AllowLoopback", (string?)json["error"]!["message"], StringComparison.Ordinal);
        }

        await using var allowing = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowLoopback = true);
        await using var allowedPeer = await RawWebhookPeer.StartAsync(allowing.Url, allowing.Secret);
        await allowedPeer.OpenSessionAsync(OnHost(allowedPeer.WebhookUrl, name!));
        Assert.NotEmpty(allowedPeer.Deliveries);
    }

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task Our_webhook_client_gets_a_clear_error_at_once_from_a_server_that_refuses_its_loopback_webhook(string protocol)
    {
        await using var harness = await WebhookHarness.StartAsync(o => o.AddressPolicy.AllowLoopback = false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));

        // Both handshakes (the server/discover probe of 2026-07-28, then initialize) are refused in the HTTP answer:
        // the client fails with the server's reason instead of waiting for an answer that will never be sent.
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => McpClient.CreateAsync(
            new WebhookClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory),
            new McpClientOptions { ProtocolVersion = Protocols.ClientSetting(protocol) },
            WebhookHarness.LoggerFactory,
            deadline.Token));

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("reply-address policy", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddressPolicy.AllowLoopback", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Server.Dispatcher.SessionCount);
    }

    [Fact]
    public async Task The_hybrid_server_refuses_a_loopback_webhook_in_initialize_by_default_naming_the_option()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.AddressPolicy.AllowLoopback = false);

        var error = await Assert.ThrowsAnyAsync<McpException>(() => harness.ConnectAsync(Protocols.November2025));

        Assert.Contains("reply-address policy", error.Message, StringComparison.Ordinal);
        Assert.Contains("HybridServerTransportOptions.AddressPolicy.AllowLoopback", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hybrid_server_refuses_a_sessionless_webhook_tool_call_to_a_loopback_webhook_by_default()
    {
        await using var harness = await HybridHarness.StartAsync(configure: o => o.AddressPolicy.AllowLoopback = false);
        var client = await harness.ConnectAsync(Protocols.July2026);

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 1 }, cancellationToken: Timeout).AsTask());
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "on the stream" }, cancellationToken: Timeout);

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("AddressPolicy.AllowLoopback", error.Message, StringComparison.Ordinal);
        Assert.Equal("Echo: on the stream", HybridEndToEndTests.Text(echo));
        Assert.Equal(0, harness.State.SlowStarted);
    }

    [Fact]
    public async Task A_url_named_again_and_again_is_checked_once_per_half_minute_and_a_failed_lookup_is_not_remembered()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var lookups = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var dnsAnswers = true;
        var guard = Guard(new WebhookAddressPolicy());
        guard.Time = time;
        guard.Resolve = (host, _) =>
        {
            lookups.Enqueue(host);
            return dnsAnswers
                ? Task.FromResult(new[] { IPAddress.Parse(host == "inside.test" ? "10.1.2.3" : "93.184.216.34") })
                : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.TryAgain);
        };

        // A lookup that fails is an error each time, never a remembered verdict.
        dnsAnswers = false;
        await Assert.ThrowsAsync<Messaging.AsyncMcpTransportException>(() => guard.CheckNamedAsync("https://hooks.test/a", Timeout));
        dnsAnswers = true;
        Assert.Null(await guard.CheckNamedAsync("https://hooks.test/a", Timeout));
        Assert.Null(await guard.CheckNamedAsync("https://hooks.test/a", Timeout));
        Assert.Equal(2, lookups.Count);

        // A refusal is remembered as well, with its reason.
        var refused = await guard.CheckNamedAsync("https://inside.test/hook", Timeout);
        Assert.Contains("10.1.2.3", refused, StringComparison.Ordinal);
        Assert.Equal(refused, await guard.CheckNamedAsync("https://inside.test/hook", Timeout));
        Assert.Equal(3, lookups.Count);

        // Half a minute later each URL is checked afresh.
        time.Advance(WebhookAddressGuard.NamedVerdictLifetime);
        Assert.Null(await guard.CheckNamedAsync("https://hooks.test/a", Timeout));
        Assert.NotNull(await guard.CheckNamedAsync("https://inside.test/hook", Timeout));
        Assert.Equal(5, lookups.Count);
    }

    private static WebhookAddressGuard Guard(WebhookAddressPolicy policy) => new(policy, "Options.AddressPolicy");

    private static string OnHost(string url, string host)
    {
        var builder = new UriBuilder(url);
        return $"{builder.Scheme}://{host}:{builder.Port}{builder.Path}";
    }

    /// <summary>A name the hosts file maps to a loopback address, other than localhost (the machine's own name, often).</summary>
    private static string? HostsFileLoopbackName()
    {
        if (!File.Exists("/etc/hosts"))
        {
            return null;
        }

        foreach (var line in File.ReadLines("/etc/hosts"))
        {
            var fields = line.Split('#')[0].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !IPAddress.TryParse(fields[0], out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || !IPAddress.IsLoopback(address))
            {
                continue;
            }

            if (fields.Skip(1).FirstOrDefault(n => !n.StartsWith("localhost", StringComparison.OrdinalIgnoreCase) && !n.Contains(':', StringComparison.Ordinal)) is { } name)
            {
                return name;
            }
        }

        return null;
    }
}
