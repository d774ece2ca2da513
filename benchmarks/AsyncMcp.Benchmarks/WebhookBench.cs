using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// tools/call <c>echo</c> over the webhook transport (signed both ways) and over the SDK's own Streamable HTTP
/// transport, each on real Kestrel on loopback in this process.
/// </summary>
internal static class WebhookBench
{
    /// <param name="protocol">The revision the client asks for; <see langword="null"/> for the SDK's default.</param>
    /// <param name="concurrency">Calls in flight at once.</param>
    /// <param name="calls">Measured calls.</param>
    /// <param name="warmup">Calls before measuring.</param>
    /// <param name="batch">Whether the server may send the answers waiting for the client's webhook in one POST (the default), or one per POST.</param>
    public static async Task<LatencyResult> MeasureWebhookAsync(string? protocol, int concurrency, int calls, int warmup, bool batch = true)
    {
        var secret = WebhookSecret.Generate();
        var options = new WebhookServerTransportOptions { Security = { Secret = secret }, AddressPolicy = { AllowLoopback = true }, BatchDeliveries = batch };
        await using var server = new WebhookServerTransport(options, Echo.ServerOptions());
        server.Start();
        var app = await StartAppAsync(app => app.MapMcpWebhook("/mcp/request", server), null);
        try
        {
            await using var client = await McpClient.CreateAsync(
                new WebhookClientTransport(new WebhookClientTransportOptions { ServerUrl = new Uri(Address(app) + "/mcp/request"), Security = { Secret = secret } }),
                new McpClientOptions { ProtocolVersion = protocol });
            return await Echo.MeasureAsync(client, concurrency, calls, warmup);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public static async Task<LatencyResult> MeasureStreamableHttpAsync(string? protocol, int concurrency, int calls, int warmup)
    {
        var app = await StartAppAsync(
            app => app.MapMcp("/mcp"),
            services => services.AddMcpServer().WithHttpTransport().WithTools([Echo.Tool()]));
        try
        {
            await using var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(Address(app) + "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }),
                new McpClientOptions { ProtocolVersion = protocol });
            return await Echo.MeasureAsync(client, concurrency, calls, warmup);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    internal static async Task<WebApplication> StartAppAsync(Action<WebApplication> map, Action<IServiceCollection>? services)
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

    internal static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    internal static class Echo
    {
        public static McpServerTool Tool() => McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" });

        public static McpServerOptions ServerOptions() => new() { ToolCollection = [Tool()] };

        public static Task<LatencyResult> MeasureAsync(McpClient client, int concurrency, int calls, int warmup) =>
            LatencyRecorder.MeasureAsync(_ => EchoCall.RunAsync(client), concurrency, calls, warmup);
    }
}
