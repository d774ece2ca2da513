// An ordinary MCP server served over SNS+SQS: clients publish to the server topic, the server reads its queue
// (subscribed to that topic) and answers on each client's topic.
//
// Configuration: the AWS SDK's own (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for an emulator, or an "AWS" section),
// and the transport options from the "AsyncMcp:SnsSqs" section.
//   ASYNCMCP_SERVER_TOPIC   the server topic name (default mcp-server); created if missing
//   ASYNCMCP_SERVER_QUEUE   the server queue name (default mcp-server-requests); created and subscribed if missing
// snippet: use-sns-sqs-server
using Amazon.SQS;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SnsSqsServer;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

var aws = builder.Configuration.GetAWSOptions();
builder.Services.AddDefaultAWSOptions(aws);
builder.Services.AddAWSService<IAmazonSQS>();

// The topic and its queue, created if missing (a deployment would rather run `asyncmcp provision` once).
var topicName = Environment.GetEnvironmentVariable("ASYNCMCP_SERVER_TOPIC") ?? "mcp-server";
var queueName = Environment.GetEnvironmentVariable("ASYNCMCP_SERVER_QUEUE") ?? "mcp-server-requests";
string serverTopicArn;
SnsSqsSubscription serverQueue;
using (var sqs = aws.CreateServiceClient<IAmazonSQS>())
using (var sns = new SnsQueryClient())
{
    var provisioner = new SnsSqsProvisioner(sqs, sns);
    serverTopicArn = await provisioner.EnsureTopicAsync(topicName);
    serverQueue = await provisioner.EnsureSubscribedQueueAsync(serverTopicArn, queueName);
}

builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "asyncmcp-sample-server", Version = "1.0.0" })
    .WithTools<SampleTools>()
    .WithSnsSqsServerTransport(builder.Configuration.GetSection("AsyncMcp:SnsSqs"), o => o.ServerQueueUrl = serverQueue.Queue.QueueUrl);

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine($"SERVER_READY {serverTopicArn}");
await host.WaitForShutdownAsync();
// end snippet
