// An ordinary McpClient that reaches an MCP server over SQS: lists its tools, then calls a long-running tool
// and prints its progress as it arrives.
//
// Configuration: the AWS SDK's own (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for an emulator), and
//   ASYNCMCP_REQUEST_QUEUE    the server's request queue name (default mcp-requests)
//   ASYNCMCP_RESPONSE_QUEUE   this client's response queue name (default mcp-responses); created if missing
// snippet: use-sqs-client
using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

var requestQueueName = Environment.GetEnvironmentVariable("ASYNCMCP_REQUEST_QUEUE") ?? "mcp-requests";
var responseQueueName = Environment.GetEnvironmentVariable("ASYNCMCP_RESPONSE_QUEUE") ?? "mcp-responses";

using var sqs = new AmazonSQSClient();
var provisioner = new SqsQueueProvisioner(sqs);
var requestQueue = await provisioner.EnsureQueueAsync(requestQueueName, new SqsQueueSettings { MaxReceiveCount = 5 });
var responseQueue = await provisioner.EnsureQueueAsync(responseQueueName);

var transport = new SqsClientTransport(sqs, new SqsClientTransportOptions
{
    ServerRequestQueueUrl = requestQueue.QueueUrl,
    ResponseQueueUrl = responseQueue.QueueUrl,
});
await using var client = await McpClient.CreateAsync(transport);
Console.WriteLine($"Connected to {client.ServerInfo?.Name} over SQS (protocol {client.NegotiatedProtocolVersion}).");
// end snippet

Console.WriteLine("Tools:");
foreach (var tool in await client.ListToolsAsync())
{
    Console.WriteLine($"  {tool.Name,-18} {tool.Description}");
}

Console.WriteLine("Calling long_running_job:");
var result = await client.CallToolAsync(
    "long_running_job",
    new Dictionary<string, object?> { ["steps"] = 5, ["stepMilliseconds"] = 400 },
    new ConsoleProgress());
Console.WriteLine($"Result: {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}");

/// <summary>Prints each progress notification as it arrives.</summary>
internal sealed class ConsoleProgress : IProgress<ProgressNotificationValue>
{
    public void Report(ProgressNotificationValue value) =>
        Console.WriteLine($"  progress {value.Progress}/{value.Total}: {value.Message}");
}
