// An ordinary MCP server (tools from the official C# SDK) served over an SQS request queue.
//
// Configuration (environment):
//   AWS_ENDPOINT_URL      SQS endpoint; unset for real AWS (then the standard AWS configuration applies)
//   AWS_REGION            region (default us-east-1 with an endpoint)
//   ASYNCMCP_REQUEST_QUEUE  request queue name (default mcp-requests); created if missing, with a dead-letter queue
using AsyncMcp.Aws;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SqsServer;

var endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
var region = Environment.GetEnvironmentVariable("AWS_REGION");
var queueName = Environment.GetEnvironmentVariable("ASYNCMCP_REQUEST_QUEUE") ?? "mcp-requests";

using var sqs = AwsClientFactory.CreateSqs(endpoint, region);
var queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(queueName, new SqsQueueSettings { MaxReceiveCount = 5 });

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(sqs);
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-sample-server", Version = "1.0.0" })
    .WithTools<SampleTools>()
    .WithSqsServerTransport(o => o.RequestQueueUrl = queue.QueueUrl);

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine($"SERVER_READY {queue.QueueUrl}");
await host.WaitForShutdownAsync();
