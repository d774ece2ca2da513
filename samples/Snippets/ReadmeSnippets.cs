using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Snippets;

internal static class ReadmeSnippets
{
    public static void HostedServer(HostApplicationBuilder builder)
    {
        // snippet: readme-host-server
        builder.Services
            .AddMcpServer()
            .WithTools<MyTools>()
            .WithSqsServerTransport(builder.Configuration.GetSection("AsyncMcp:Sqs"));   // RequestQueueUrl and more
        // end snippet
    }

    public static async Task ServerWithoutHost(IAmazonSQS sqs, string url)
    {
        // snippet: readme-server-without-host
        var mcpServerOptions = new McpServerOptions
        {
            ServerInfo = new() { Name = "my-server", Version = "1.0.0" },
            ToolCollection = [McpServerTool.Create((string message) => $"Echo: {message}", new() { Name = "echo" })],
        };
        await using var server = new SqsServerTransport(sqs, new SqsServerTransportOptions { RequestQueueUrl = url }, mcpServerOptions);
        await server.StartAsync();
        // end snippet
    }

    public static async Task Client(IAmazonSQS sqs, string requestQueueUrl, string responseQueueUrl, Dictionary<string, object?> args, IProgress<ProgressNotificationValue> progress)
    {
        // snippet: readme-client
        var transport = new SqsClientTransport(sqs, new SqsClientTransportOptions
        {
            ServerRequestQueueUrl = requestQueueUrl,
            ResponseQueueUrl = responseQueueUrl,
        });
        await using var client = await McpClient.CreateAsync(transport);
        var result = await client.CallToolAsync("long_running_job", args, progress);
        // end snippet
    }

    public static async Task Provision(IAmazonSQS sqs)
    {
        // snippet: readme-provision
        var provisioner = new SqsQueueProvisioner(sqs);
        var requests = await provisioner.EnsureQueueAsync("mcp-requests", new SqsQueueSettings { MaxReceiveCount = 5 });
        var responses = await provisioner.EnsureQueueAsync("mcp-responses-alice");
        // end snippet
    }
}
