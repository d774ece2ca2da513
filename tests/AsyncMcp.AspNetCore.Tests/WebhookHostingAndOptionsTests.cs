using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>The hosting extensions with dependency injection, and options checked at start with messages that name the option.</summary>
public sealed class WebhookHostingAndOptionsTests
{
    [Fact]
    public async Task AddMcpServer_WithWebhookServerTransport_and_MapMcpWebhook_serve_tools()
    {
        var secret = WebhookSecret.Generate();
        var app = await WebhookHarness.StartAppAsync(
            app => app.MapMcpWebhook(),
            services => services.AddMcpServer()
                .WithTools([McpServerTool.Create((string text) => text.ToUpperInvariant(), new() { Name = "shout" })])
                .WithWebhookServerTransport(o =>
                {
                    o.Security.Secret = secret;
                    o.AddressPolicy.AllowLoopback = true;
                }));
        try
        {
            var transport = new WebhookClientTransport(new WebhookClientTransportOptions
            {
                ServerUrl = new Uri(WebhookHarness.BoundAddress(app) + "/mcp/request"),
                Security = { Secret = secret },
            });
            await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
            var result = await client.CallToolAsync("shout", new Dictionary<string, object?> { ["text"] = "hi" }, cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("HI", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_hosted_service_stops_when_the_hosts_stop_token_runs_out()
    {
        // A call is in flight and the drain timeout is long: stopping must still end when the host says time is up.
        var secret = WebhookSecret.Generate();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var app = await WebhookHarness.StartAppAsync(
            app => app.MapMcpWebhook(),
            services => services.AddMcpServer()
                .WithTools([McpServerTool.Create(
                    async (CancellationToken cancellationToken) =>
                    {
                        started.TrySetResult();
                        await Task.Delay(Timeout.Infinite, cancellationToken);
                        return "never";
                    },
                    new() { Name = "forever" })])
                .WithWebhookServerTransport(o =>
                {
                    o.Security.Secret = secret;
                    o.AddressPolicy.AllowLoopback = true;
                    o.ShutdownDrainTimeout = TimeSpan.FromSeconds(30);
                }));
        await using var appScope = app;
        var transport = new WebhookClientTransport(new WebhookClientTransportOptions
        {
            ServerUrl = new Uri(WebhookHarness.BoundAddress(app) + "/mcp/request"),
            Security = { Secret = secret },
            CloseSessionOnDispose = false,
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var call = client.CallToolAsync("forever", cancellationToken: callCts.Token).AsTask();
        await started.Task.WaitAsync(TestContext.Current.CancellationToken);

        using var stopToken = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await app.StopAsync(stopToken.Token);
        stopping.Stop();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"Stopping took {stopping.Elapsed} with a 1 s stop token and a 30 s drain timeout.");

        // Out of time, the server may not have told the client (its not_answered error is cancelled with the rest).
        await callCts.CancelAsync();
        await Task.WhenAny(call);
    }

    [Fact]
    public void The_clients_own_listener_takes_no_configuration_from_the_host_process()
    {
        // An ASP.NET Core app's builder reads its environment and appsettings.json, where Kestrel__Endpoints__… would
        // override the listener's own address. A variable no other test reads stands in for those.
        var name = "AsyncMcpProbe" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from the host process");
        try
        {
            Assert.Equal("from the host process", Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder().Configuration[name]);

            var builder = Webhooks.Client.WebhookReceiverHost.CreateBuilder("http://127.0.0.1:0", 1024);

            Assert.Null(builder.Configuration[name]);
            Assert.DoesNotContain(((Microsoft.Extensions.Configuration.IConfigurationRoot)builder.Configuration).Providers, p =>
                p is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider or Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void Lists_in_configuration_replace_the_default_lists_rather_than_add_to_them()
    {
        // "https" alone must mean http is refused: the configuration binder on its own would keep the default ["https", "http"].
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Security:Secret"] = WebhookSecret.Generate(),
            ["AddressPolicy:AllowedSchemes:0"] = "https",
            ["AddressPolicy:DeniedHosts:0"] = "metadata.internal",
            ["SupportedProtocolVersions:0"] = "2026-07-28",
            ["SupportedProtocolVersions:1"] = "2025-11-25",
            ["MaxSessions"] = "5",
        }).Build();
        var services = new ServiceCollection();
        services.AddMcpServer().WithWebhookServerTransport(configuration, o => o.MaxConcurrentRequests = 3);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhookServerTransportOptions>>().Value;
        Assert.Equal(["https"], options.AddressPolicy.AllowedSchemes);
        Assert.Equal(["metadata.internal"], options.AddressPolicy.DeniedHosts);
        Assert.Equal(["2026-07-28", "2025-11-25"], options.SupportedProtocolVersions);
        Assert.Equal(5, options.MaxSessions);
        Assert.Equal(3, options.MaxConcurrentRequests);

        // Lists the configuration does not name keep their defaults.
        Assert.Equal(Webhooks.Delivery.WebhookAddressPolicy.DefaultDeniedNetworks, options.AddressPolicy.DeniedNetworks);
    }

    public static TheoryData<string, Action<WebhookServerTransportOptions>> BadServerOptions => new()
    {
        { "Security.Secret is required", o => o.Security.Secret = null },
        { "Security.Secret must be a Standard Webhooks secret", o => o.Security.Secret = "whsec_not base64!" },
        { "at least 16 random bytes", o => o.Security.Secret = "whsec_" + Convert.ToBase64String(new byte[8]) },
        { "Security.TimestampTolerance", o => o.Security.TimestampTolerance = TimeSpan.Zero },
        { "MaxRequestBodyBytes", o => o.MaxRequestBodyBytes = 10 },
        { "DeliveryTimeout", o => o.DeliveryTimeout = TimeSpan.Zero },
        { "AddressPolicy.AllowedNetworks holds 'ten'", o => o.AddressPolicy.AllowedNetworks = ["ten"] },
        { "AddressPolicy.AllowedSchemes may hold only", o => o.AddressPolicy.AllowedSchemes = ["gopher"] },
        { "MaxSessions", o => o.MaxSessions = 0 },
    };

    [Theory]
    [MemberData(nameof(BadServerOptions))]
    public void Bad_server_options_fail_at_start_naming_the_option(string expected, Action<WebhookServerTransportOptions> spoil)
    {
        var options = new WebhookServerTransportOptions { Security = { Secret = WebhookSecret.Generate() } };
        spoil(options);

        var error = Assert.Throws<ArgumentException>(() => new WebhookServerTransport(options, new McpServerOptions()));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<WebhookClientTransportOptions>> BadClientOptions => new()
    {
        { "ServerUrl must be an absolute http(s) URL", o => o.ServerUrl = null },
        { "ServerUrl must be an absolute http(s) URL", o => o.ServerUrl = new Uri("ftp://example.com/") },
        { "WebhookUrl is required with Receiver", o => o.Receiver = new WebhookReceiver(new() { Secret = WebhookSecret.Generate() }) },
        { "ListenUrl must be an absolute http(s) URL", o => o.ListenUrl = "127.0.0.1:0" },
        { "WebhookPath must be a path", o => o.WebhookPath = "hook" },
        { "Security.Secret is required", o => o.Security.Secret = null },
        { "RequestTimeout", o => o.RequestTimeout = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(BadClientOptions))]
    public void Bad_client_options_fail_at_once_naming_the_option(string expected, Action<WebhookClientTransportOptions> spoil)
    {
        var options = new WebhookClientTransportOptions { ServerUrl = new Uri("http://127.0.0.1:1/mcp/request"), Security = { Secret = WebhookSecret.Generate() } };
        spoil(options);

        var error = Assert.Throws<ArgumentException>(() => new WebhookClientTransport(options));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
