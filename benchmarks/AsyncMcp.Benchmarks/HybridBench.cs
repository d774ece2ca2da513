using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// tools/call over the hybrid transport on real Kestrel on loopback in this process: a fast tool answered on the stream,
/// and the same tool marked for webhook delivery (acknowledged on the stream, result POSTed to the client's webhook).
/// </summary>
internal static class HybridBench
{
    public static async Task<LatencyResult> MeasureAsync(string? protocol, string tool, int concurrency, int calls, int warmup)
    {
        var secret = WebhookSecret.Generate();
        var app = await WebhookBench.StartAppAsync(
            app => app.MapMcpHybrid("/mcp"),
            services => services.AddMcpServer()
                .WithHybridTransport(o =>
                {
                    o.Security.Secret = secret;
                    o.AddressPolicy.AllowLoopback = true;
                    o.WebhookTools.Add("echo_later");
                })
                .WithTools([WebhookBench.Echo.Tool(), McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo_later" })]));
        try
        {
            await using var client = await McpClient.CreateAsync(
                new HybridClientTransport(new HybridClientTransportOptions { Endpoint = new Uri(WebhookBench.Address(app) + "/mcp"), Security = { Secret = secret } }),
                new McpClientOptions { ProtocolVersion = protocol });
            var arguments = new Dictionary<string, object?> { ["message"] = "hello" };
            return await LatencyRecorder.MeasureAsync(
                async _ =>
                {
                    var result = await client.CallToolAsync(tool, arguments);
                    if (result.Content is not [TextContentBlock { Text: "Echo: hello" }])
                    {
                        throw new InvalidOperationException("wrong answer");
                    }
                },
                concurrency,
                calls,
                warmup);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
