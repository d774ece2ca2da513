using System.CommandLine;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Proxy.Bridging;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp proxy</c>: lets a standard MCP client (stdio) reach an MCP server behind SQS.</summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var stdio = new Option<bool>("--stdio") { Description = "Serve one MCP session on standard input and output (how Claude, Cursor and the MCP Inspector start a local server).", DefaultValueFactory = _ => true };
        var proxy = new Command("proxy", "Let a standard MCP client reach an MCP server behind SQS: messages are forwarded unchanged, both ways (notifications, progress, cancellation, sampling and elicitation).")
        {
            stdio,
        };
        SqsSettings.AddTo(proxy, responseQueue: true);
        proxy.SetAction((result, cancellationToken) => CliRuntime.RunAsync(async () =>
        {
            var settings = SqsSettings.Read(result, responseQueue: true);
            if (!result.GetValue(stdio))
            {
                throw new CliUsageException("only the stdio front (--stdio) is available in this version.");
            }

            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose);
            using var sqs = settings.CreateSqs();
            var requestQueueUrl = await SqsSettings.Resolved.QueueUrlAsync(sqs, settings.RequestQueue, cancellationToken).ConfigureAwait(false);
            var responseQueueUrl = await SqsSettings.Resolved.QueueUrlAsync(sqs, settings.ResponseQueue!, cancellationToken).ConfigureAwait(false);
            var back = await new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }, loggerFactory)
                .ConnectAsync(cancellationToken).ConfigureAwait(false);
            var front = new StdioServerTransport("asyncmcp-proxy", loggerFactory);
            await McpMessageBridge.RunAsync(front, back, loggerFactory.CreateLogger("AsyncMcp.Cli.Proxy"), cancellationToken).ConfigureAwait(false);
            return CliRuntime.Ok;
        }));
        return proxy;
    }
}
