// An ordinary McpClient that reaches an MCP server over SNS+SQS: publishes to the server topic and reads its answers
// from a queue of its own, subscribed to a topic of its own.
//
// Configuration: the AWS SDK's own (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for an emulator), and
//   ASYNCMCP_SERVER_TOPIC   the server topic name (default mcp-server)
//   ASYNCMCP_CLIENT_NAME    names this client's topic and queue (default mcp-client-alice); created if missing
// snippet: use-sns-sqs-client
using Amazon.SQS;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

var serverTopicName = Environment.GetEnvironmentVariable("ASYNCMCP_SERVER_TOPIC") ?? "mcp-server";
var clientName = Environment.GetEnvironmentVariable("ASYNCMCP_CLIENT_NAME") ?? "mcp-client-alice";

using var sqs = new AmazonSQSClient();
using var sns = new SnsQueryClient();
var provisioner = new SnsSqsProvisioner(sqs, sns);
var serverTopic = await provisioner.EnsureTopicAsync(serverTopicName);
var clientTopic = await provisioner.EnsureTopicAsync(clientName);
var clientQueue = await provisioner.EnsureSubscribedQueueAsync(clientTopic, clientName);

var transport = new SnsSqsClientTransport(sqs, sns, new SnsSqsClientTransportOptions
{
    ServerTopicArn = serverTopic,
    ClientTopicArn = clientTopic,
    ClientQueueUrl = clientQueue.Queue.QueueUrl,
});
await using var client = await McpClient.CreateAsync(transport);
Console.WriteLine($"Connected to {client.ServerInfo?.Name} over SNS+SQS (protocol {client.NegotiatedProtocolVersion}).");
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
