// An MCP server over SQS run as an ASP.NET Core service: settings from appsettings.json (and the environment, such as
// AsyncMcp__Sqs__RequestQueue), the AsyncMcp health check on /health, and the AsyncMcp metrics exported with
// OpenTelemetry to the console.
//
// AWS: AWS_ENDPOINT_URL (an emulator; unset for real AWS, where the standard AWS configuration applies) and AWS_REGION.
using System.ComponentModel;
using AsyncMcp.Aws.Hosting;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ModelContextProtocol.Server;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
var sqsSettings = builder.Configuration.GetSection("AsyncMcp:Sqs");

// Options are set in code from the configuration section here; the queue is created if missing, with a dead-letter queue.
// The AWS client comes from the AWS SDK's .NET setup: region, profile, endpoint and credentials as the SDK reads them.
using var sqs = builder.Configuration.GetAWSOptions().CreateServiceClient<Amazon.SQS.IAmazonSQS>();
var queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(
    sqsSettings["RequestQueue"] ?? "mcp-requests",
    new SqsQueueSettings { MaxReceiveCount = sqsSettings.GetValue("MaxReceiveCount", 5), KeepExisting = true });

builder.Services.AddSingleton(sqs);
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-operated-service", Version = "1.0.0" })
    .WithTools<ServiceTools>()
    .WithSqsServerTransport(o =>
    {
        o.RequestQueueUrl = queue.QueueUrl;
        o.WaitTime = TimeSpan.FromSeconds(sqsSettings.GetValue("WaitTimeSeconds", 20));
    });

builder.Services.AddHealthChecks().AddAsyncMcp(o => builder.Configuration.GetSection("AsyncMcp:Health").Bind(o));

builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(AsyncMcpTelemetry.MeterName)
    .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds =
        builder.Configuration.GetValue("Metrics:ConsoleExportIntervalMilliseconds", 10_000)));

var app = builder.Build();
app.MapHealthChecks("/health");
await app.StartAsync();
Console.WriteLine($"SERVICE_READY {app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()} {queue.QueueUrl}");
await app.WaitForShutdownAsync();

internal sealed class ServiceTools
{
    [McpServerTool(Name = "echo"), Description("Echoes the message back.")]
    public static string Echo(string message) => $"Echo: {message}";
}
