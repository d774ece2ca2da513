using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A real McpServer behind the webhook endpoint on real Kestrel (127.0.0.1, a free port), and real clients.</summary>
public sealed class WebhookHarness : WebAppHarness
{
    private WebhookHarness(WebApplication app, WebhookServerTransport server, Uri url, string secret, TestServerState state, CollectingLoggerProvider logs)
        : base(app, url, secret, state, logs) => Server = server;

    public static ILoggerFactory LoggerFactory { get; } = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

    public WebhookServerTransport Server { get; }

    public static async Task<WebhookHarness> StartAsync(Action<WebhookServerTransportOptions>? configure = null, McpServerOptions? serverOptions = null)
    {
        var logs = new CollectingLoggerProvider(LogLevel.Information);
        var serverLoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(logs));
        var state = new TestServerState();
        var secret = WebhookSecret.Generate();
        // Client and server share this machine: the tests allow loopback webhooks, which production refuses by default.
        var options = new WebhookServerTransportOptions { Security = { Secret = secret }, AddressPolicy = { AllowLoopback = true } };
        configure?.Invoke(options);
        var server = new WebhookServerTransport(options, serverOptions ?? TestMcpServer.CreateOptions(state), serverLoggerFactory);
        server.Start();
        var app = await StartAppAsync(app => app.MapMcpWebhook("/mcp/request", server));
        var url = new Uri(BoundAddress(app) + "/mcp/request");
        return new WebhookHarness(app, server, url, secret, state, logs);
    }

    /// <summary>Starts a Kestrel app on 127.0.0.1 and a free port.</summary>
    public static async Task<WebApplication> StartAppAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return app;
    }

    public static string BoundAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    public WebhookClientTransportOptions ClientOptions(Action<WebhookClientTransportOptions>? configure = null)
    {
        var options = new WebhookClientTransportOptions { ServerUrl = Url, Security = { Secret = Secret } };
        configure?.Invoke(options);
        return options;
    }

    public async Task<McpClient> ConnectAsync(string? protocolVersion, Action<WebhookClientTransportOptions>? configure = null, McpClientOptions? clientOptions = null)
    {
        clientOptions ??= new McpClientOptions();
        clientOptions.ProtocolVersion = protocolVersion;
        return Own(await McpClient.CreateAsync(new WebhookClientTransport(ClientOptions(configure), LoggerFactory), clientOptions, LoggerFactory, TestContext.Current.CancellationToken));
    }

    protected override Task StopServerAsync() => Server.DisposeAsync().AsTask();

    protected override async ValueTask DisposeResourcesAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
