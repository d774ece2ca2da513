using System.ComponentModel;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A real McpServer behind the hybrid endpoint (the SDK's Streamable HTTP) on real Kestrel (127.0.0.1, a free port), and real clients.</summary>
public sealed class HybridHarness : WebAppHarness
{
    /// <summary>Tools that answer by webhook by name in the options; <c>render</c> is marked with the attribute instead.</summary>
    public static readonly string[] WebhookTools = ["slow", "sample", "elicit", "sample_explicit", "elicit_explicit", "log", "fail", "hold"];

    private HybridHarness(WebApplication app, Uri url, string secret, TestServerState state, CollectingLoggerProvider logs)
        : base(app, url, secret, state, logs)
    {
    }

    public static async Task<HybridHarness> StartAsync(
        HybridResponseMode mode = HybridResponseMode.Sse,
        Action<HybridServerTransportOptions>? configure = null,
        Action<HttpServerTransportOptions>? configureHttp = null,
        Action<IServiceCollection, IMcpServerBuilder>? configureServer = null)
    {
        var logs = new CollectingLoggerProvider(LogLevel.Debug);
        var state = new TestServerState();
        var secret = WebhookSecret.Generate();
        var testServer = TestMcpServer.CreateOptions(state);
        var app = await WebhookHarness.StartAppAsync(
            app => app.MapMcpHybrid("/mcp"),
            services =>
            {
                services.AddLogging(b => b.SetMinimumLevel(LogLevel.Information).AddFilter("AsyncMcp", LogLevel.Debug).AddProvider(logs));
                var server = services.AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-hybrid-test", Version = "1.0.0" });
                server
                    .WithHybridTransport(o =>
                    {
                        o.Security.Secret = secret;
                        o.ResponseMode = mode;

                        // Client and server share this machine: loopback webhooks are allowed here, refused by default.
                        o.AddressPolicy.AllowLoopback = true;
                        foreach (var name in WebhookTools)
                        {
                            o.WebhookTools.Add(name);
                        }

                        configure?.Invoke(o);
                    })
                    .WithTools(testServer.ToolCollection!)
                    .WithTools<AttributeMarkedTools>()
                    .WithResources(testServer.ResourceCollection!)
                    .WithPrompts(testServer.PromptCollection!)
                    .WithCompleteHandler(testServer.Handlers.CompleteHandler!);
                configureServer?.Invoke(services, server);
                if (configureHttp is not null)
                {
                    services.Configure(configureHttp);
                }
            });
        return new HybridHarness(app, new Uri(WebhookHarness.BoundAddress(app) + "/mcp"), secret, state, logs);
    }

    public HybridClientTransportOptions ClientOptions(Action<HybridClientTransportOptions>? configure = null)
    {
        var options = new HybridClientTransportOptions { Endpoint = Url, Security = { Secret = Secret } };
        configure?.Invoke(options);
        return options;
    }

    public Task<McpClient> ConnectAsync(string protocol, Action<HybridClientTransportOptions>? configure = null, McpClientOptions? clientOptions = null) =>
        ConnectAsync(protocol, new HybridClientTransport(ClientOptions(configure), WebhookHarness.LoggerFactory), clientOptions);

    /// <summary>Connects through a given transport (a hybrid transport wrapped to observe what it hands the client, say).</summary>
    public async Task<McpClient> ConnectAsync(string protocol, IClientTransport transport, McpClientOptions? clientOptions = null)
    {
        clientOptions ??= new McpClientOptions();
        clientOptions.ProtocolVersion = Protocols.ClientSetting(protocol);
        return Own(await McpClient.CreateAsync(transport, clientOptions, WebhookHarness.LoggerFactory, TestContext.Current.CancellationToken));
    }

    /// <summary>Whether the SDK still runs the stateful session with this id.</summary>
    public bool HasSession(string sessionId) => App.Services.GetRequiredService<HybridSessionRegistry>().FindSession(sessionId) is not null;

    /// <summary>Stops the host, as a host shutting down does.</summary>
    protected override async Task StopServerAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>A tool marked for webhook delivery with the attribute rather than by name.</summary>
[McpServerToolType]
public sealed class AttributeMarkedTools
{
    [McpServerTool(Name = "render"), WebhookDelivery, Description("Renders a report in a few steps, reporting progress.")]
    public static async Task<string> Render(string title, int steps, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= steps; i++)
        {
            await Task.Delay(20, cancellationToken);
            progress.Report(new ProgressNotificationValue { Progress = i, Total = steps });
        }

        return $"rendered {title}";
    }
}
