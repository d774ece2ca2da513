// An ordinary MCP server served over signed webhooks: clients POST requests to /mcp/request, the server POSTs its
// answers to the webhook URL each client names.
//
// Configuration: the "AsyncMcp:Webhook" section (appsettings.json, or environment variables such as
// AsyncMcp__Webhook__Security__Secret=whsec_...); the listening address with --urls or ASPNETCORE_URLS.
// snippet: use-webhook-server
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using WebhookServer;

var builder = WebApplication.CreateBuilder(args);
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-sample-server", Version = "1.0.0" })
    .WithTools<SampleTools>()
    .WithWebhookServerTransport(builder.Configuration.GetSection("AsyncMcp:Webhook"));

var app = builder.Build();
app.MapMcpWebhook("/mcp/request");

await app.StartAsync();
Console.WriteLine($"SERVER_READY {app.Urls.First()}/mcp/request");
await app.WaitForShutdownAsync();
// end snippet
