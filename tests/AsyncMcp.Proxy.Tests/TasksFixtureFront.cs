using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Aws.Sqs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The conformance fixture server (<see cref="ConformanceFixtures"/>, the Tasks extension on) behind one Streamable HTTP
/// front on a free loopback port: the SDK's own endpoint, AsyncMcp's hybrid endpoint, or <c>asyncmcp proxy --listen</c>
/// with the fixture behind SQS. Stopped (the proxy by its process id) when disposed.
/// </summary>
internal sealed class TasksFixtureFront : IAsyncDisposable
{
    public const string Sdk = "SDK endpoint";
    public const string Hybrid = "hybrid endpoint";
    public const string ProxySqs = "proxy, SQS";

    private readonly Func<ValueTask> _stop;

    private TasksFixtureFront(string url, Func<ValueTask> stop)
    {
        Url = url;
        _stop = stop;
    }

    /// <summary>The MCP endpoint, <c>http://127.0.0.1:port/mcp</c>.</summary>
    public string Url { get; }

    public static async Task<TasksFixtureFront> StartAsync(string front, BridgeEmulator emulator)
    {
        switch (front)
        {
            case Sdk:
                return await StartWebAppAsync(services => services.AddMcpServer(ConformanceFixtures.Configurer()).WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients), app => app.MapMcp("/mcp"));
            case Hybrid:
                var secret = WebhookSecret.Generate();
                return await StartWebAppAsync(services => services.AddMcpServer(ConformanceFixtures.Configurer()).WithHybridTransport(o => o.Security.Secret = secret), app => app.MapMcpHybrid("/mcp"));
            case ProxySqs:
                var requestQueue = await emulator.CreateQueueAsync("tasks-req");
                var responseQueue = await emulator.CreateQueueAsync("tasks-resp");
                var server = new SqsServerTransport(emulator.Sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue }, ConformanceFixtures.Create());
                await server.StartAsync(TestContext.Current.CancellationToken);
                ConformanceTests.ProxyProcess? proxy = null;
                try
                {
                    proxy = await ConformanceTests.ProxyProcess.StartAsync(emulator, ["--request-queue", requestQueue, "--response-queue", responseQueue]);
                }
                catch
                {
                    await server.DisposeAsync();
                    throw;
                }

                return new TasksFixtureFront(proxy.Url, async () =>
                {
                    await proxy.DisposeAsync();
                    await server.DisposeAsync();
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(front), front, "Not a front of the fixture.");
        }
    }

    public ValueTask DisposeAsync() => _stop();

    private static async Task<TasksFixtureFront> StartWebAppAsync(Action<IServiceCollection> configure, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        configure(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/mcp";
        return new TasksFixtureFront(url, async () =>
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        });
    }
}
