// An ordinary MCP server over Streamable HTTP, whose long-running tool ([WebhookDelivery]) acknowledges its call at
// once and POSTs the signed result to the client's webhook. Any Streamable HTTP client can use the same endpoint.
//
// Configuration: the "AsyncMcp:Hybrid" section (appsettings.json, or environment variables such as
// AsyncMcp__Hybrid__Security__Secret=whsec_...); the listening address with --urls or ASPNETCORE_URLS.
// snippet: use-hybrid-server
using HybridServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

var builder = WebApplication.CreateBuilder(args);
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-sample-server", Version = "1.0.0" })
    .WithTools<SampleTools>()
    .WithHybridTransport(builder.Configuration.GetSection("AsyncMcp:Hybrid"));

var app = builder.Build();
app.MapMcpHybrid("/mcp");

await app.StartAsync();
Console.WriteLine($"SERVER_READY {app.Urls.First()}/mcp");
await app.WaitForShutdownAsync();
// end snippet
