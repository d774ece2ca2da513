using System.ComponentModel;
using Amazon.SQS;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Snippets;

internal static class TransportSnippets
{
    public static void SqsServer(HostApplicationBuilder builder, IAmazonSQS sqs)
    {
        // snippet: sqs-server
        builder.Services.AddSingleton<IAmazonSQS>(sqs);           // optional: else AddAWSService<IAmazonSQS>() or the AWS configuration
        builder.Services
            .AddMcpServer()
            .WithTools<MyTools>()
            .WithSqsServerTransport(o =>
            {
                o.RequestQueueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/mcp-requests";
                o.MaxConcurrentRequests = 50;
            });
        // end snippet
    }

    public static async Task SnsSqsServer(HostApplicationBuilder builder, IAmazonSQS sqs)
    {
        // snippet: sns-sqs-server
        var sns = new SnsQueryClient();                            // standard AWS credentials and region
        var provisioner = new SnsSqsProvisioner(sqs, sns);
        var serverTopic = await provisioner.EnsureTopicAsync("mcp-server");
        var serverQueue = await provisioner.EnsureSubscribedQueueAsync(serverTopic, "mcp-server-requests");

        builder.Services.AddSingleton<ISnsClient>(sns);            // optional: otherwise one is created from the AWS configuration
        builder.Services
            .AddMcpServer()
            .WithTools<MyTools>()
            .WithSnsSqsServerTransport(o => o.ServerQueueUrl = serverQueue.Queue.QueueUrl);
        // end snippet
    }

    public static async Task SnsSqsClient(IAmazonSQS sqs, ISnsClient sns, SnsSqsProvisioner provisioner, string serverTopic)
    {
        // snippet: sns-sqs-client
        var clientTopic = await provisioner.EnsureTopicAsync("mcp-client-alice");
        var clientQueue = await provisioner.EnsureSubscribedQueueAsync(clientTopic, "mcp-client-alice");
        var transport = new SnsSqsClientTransport(sqs, sns, new SnsSqsClientTransportOptions
        {
            ServerTopicArn = serverTopic,
            ClientTopicArn = clientTopic,
            ClientQueueUrl = clientQueue.Queue.QueueUrl,
        });
        await using var client = await McpClient.CreateAsync(transport);
        // end snippet
    }

    public static void WebhookServer(WebApplicationBuilder builder)
    {
        // snippet: webhook-server
        builder.Services
            .AddMcpServer()
            .WithTools<MyTools>()
            .WithWebhookServerTransport(o =>
            {
                o.Security.Secret = builder.Configuration["Mcp:WebhookSecret"];   // whsec_…, shared with clients
                o.AddressPolicy.AllowedHosts = ["*.hooks.example.com"];           // optional allowlist
                // o.AddressPolicy.AllowLoopback = true;                          // development: clients on this machine
            });
        var app = builder.Build();
        app.MapMcpWebhook("/mcp/request");
        // end snippet
    }

    public static void WebhookServerFromConfiguration(WebApplicationBuilder builder)
    {
        // snippet: webhook-server-configuration
        builder.Services
            .AddMcpServer()
            .WithTools<MyTools>()
            .WithWebhookServerTransport(builder.Configuration.GetSection("AsyncMcp:Webhook"));
        // end snippet
    }

    public static async Task WebhookClient(string sharedSecret)
    {
        // snippet: webhook-client
        var transport = new WebhookClientTransport(new WebhookClientTransportOptions
        {
            ServerUrl = new Uri("https://mcp.example.com/mcp/request"),
            Security = { Secret = sharedSecret },
            // Reachable from the server? Bind elsewhere and say how the server reaches it:
            // ListenUrl = "http://0.0.0.0:8080", WebhookUrl = new Uri("https://me.example.com/mcp/webhook"),
        });
        await using var client = await McpClient.CreateAsync(transport);
        // end snippet
    }

    public static void WebhookReceiverInApp(WebApplication app, Uri serverUrl, string sharedSecret)
    {
        // snippet: webhook-client-receiver
        var receiver = new WebhookReceiver(new WebhookSecurityOptions { Secret = sharedSecret });
        app.MapMcpWebhookReceiver("/mcp/webhook", receiver);
        var transport = new WebhookClientTransport(new WebhookClientTransportOptions
        {
            ServerUrl = serverUrl,
            Receiver = receiver,
            WebhookUrl = new Uri("https://me.example.com/mcp/webhook"),
            Security = { Secret = sharedSecret },
        });
        // end snippet
    }

    public static void HybridServer(WebApplicationBuilder builder)
    {
        // snippet: hybrid-server
        builder.Services
            .AddMcpServer()
            .WithTools<ReportTools>()
            .WithHybridTransport(o =>
            {
                o.Security.Secret = builder.Configuration["Mcp:WebhookSecret"];   // whsec_…, shared with clients
                o.WebhookTools.Add("export_everything");                          // by name, besides [WebhookDelivery]
                o.ResponseMode = HybridResponseMode.Sse;                          // or Json
            });
        var app = builder.Build();
        app.MapMcpHybrid("/mcp");
        // end snippet
    }

    public static async Task HybridClient(string sharedSecret, Dictionary<string, object?> args)
    {
        // snippet: hybrid-client
        var transport = new HybridClientTransport(new HybridClientTransportOptions
        {
            Endpoint = new Uri("https://mcp.example.com/mcp"),
            Security = { Secret = sharedSecret },
            // Reachable from the server? Bind elsewhere and say how the server reaches it:
            // ListenUrl = "http://0.0.0.0:8080", WebhookUrl = new Uri("https://me.example.com/mcp/webhook"),
        });
        await using var client = await McpClient.CreateAsync(transport);
        var result = await client.CallToolAsync("render_report", args, progress: new Progress<ProgressNotificationValue>(p => Console.WriteLine(p.Message)));
        // end snippet
    }
}

// snippet: hybrid-tool
[McpServerToolType]
public sealed class ReportTools
{
    [McpServerTool, WebhookDelivery, Description("Renders the quarterly report; takes minutes.")]
    public static async Task<string> RenderReport(string quarter, IProgress<ProgressNotificationValue> progress, CancellationToken ct)
    {
        for (var part = 1; part <= 10; part++)
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            progress.Report(new() { Progress = part, Total = 10, Message = $"rendered part {part} of 10" });
        }

        return $"The {quarter} report.";
    }
// end snippet

    // snippet: hybrid-input-required
    [McpServerTool, WebhookDelivery, Description("Deletes a report after the user confirms.")]
    public static string DeleteReport(RequestContext<CallToolRequestParams> context, string quarter)
    {
        if (context.Params?.InputResponses?.TryGetValue("confirm", out var answer) == true &&
            answer.Deserialize(InputResponse.ElicitResultJsonTypeInfo) is { IsAccepted: true })
        {
            return $"deleted {quarter}";
        }

        throw new InputRequiredException(new Dictionary<string, InputRequest>
        {
            ["confirm"] = InputRequest.ForElicitation(new ElicitRequestParams
            {
                Message = $"Delete the {quarter} report?",
                RequestedSchema = new() { Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["ok"] = new ElicitRequestParams.BooleanSchema() } },
            }),
        });
    }
    // end snippet
}
