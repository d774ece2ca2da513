// An ordinary MCP server (tools from the official C# SDK) served over an SQS request queue.
//
// Configuration: the AWS SDK's own (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for an emulator, or an "AWS" section),
// and the transport options from the "AsyncMcp:Sqs" section (for example AsyncMcp__Sqs__MaxConcurrentRequests=50).
//   ASYNCMCP_REQUEST_QUEUE  request queue name (default mcp-requests); created if missing, with a dead-letter queue
// snippet: use-sqs-server
using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SqsServer;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

// The AWS clients come from the AWS SDK's .NET setup: region, profile, endpoint and credentials as the SDK reads them.
var aws = builder.Configuration.GetAWSOptions();
builder.Services.AddDefaultAWSOptions(aws);
builder.Services.AddAWSService<IAmazonSQS>();

// Create the queue (with a dead-letter queue) if missing; a deployment would rather run `asyncmcp provision` once.
var queueName = Environment.GetEnvironmentVariable("ASYNCMCP_REQUEST_QUEUE") ?? "mcp-requests";
SqsQueueInfo queue;
using (var sqs = aws.CreateServiceClient<IAmazonSQS>())
{
    queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(queueName, new SqsQueueSettings { MaxReceiveCount = 5 });
}

builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-sample-server", Version = "1.0.0" })
    .WithTools<SampleTools>()
    .WithSqsServerTransport(builder.Configuration.GetSection("AsyncMcp:Sqs"), o => o.RequestQueueUrl = queue.QueueUrl);

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine($"SERVER_READY {queue.QueueUrl}");
await host.WaitForShutdownAsync();
// end snippet
