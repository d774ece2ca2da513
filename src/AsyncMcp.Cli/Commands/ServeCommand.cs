using System.CommandLine;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Proxy.Bridging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp serve</c>: puts an existing MCP server (a stdio command or a Streamable HTTP URL) behind SQS.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var url = new Option<Uri?>("--url") { Description = "The Streamable HTTP endpoint of a running MCP server (instead of a command)." };
        var maxSessions = new Option<int>("--max-sessions") { Description = "The most sessions (child processes or connections) at once.", DefaultValueFactory = _ => 32 };
        var command = new Argument<string[]>("command")
        {
            Description = "The stdio MCP server to run for each session, with its arguments (after --).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var serve = new Command("serve", "Serve an existing MCP server over SQS without changing it: one child process (or connection) per session, ended with its session.")
        {
            url,
            maxSessions,
            command,
        };
        SqsSettings.AddTo(serve, responseQueue: false);
        serve.SetAction((result, cancellationToken) => CliRuntime.RunAsync(async () =>
        {
            var settings = SqsSettings.Read(result, responseQueue: false);
            var words = result.GetValue(command) ?? [];
            var bridgeOptions = new McpServerBridgeOptions
            {
                Command = words.Length > 0 ? words[0] : null,
                Arguments = [.. words.Skip(1)],
                Url = result.GetValue(url),
                MaxSessions = result.GetValue(maxSessions),
            };
            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose);
            McpServerBridge bridge;
            try
            {
                bridge = new McpServerBridge(bridgeOptions, loggerFactory);
            }
            catch (ArgumentException ex)
            {
                throw new CliUsageException($"give the MCP server to serve: a command after '--', or --url ({ex.Message})");
            }

            using var sqs = settings.CreateSqs();
            var requestQueueUrl = await SqsSettings.Resolved.QueueUrlAsync(sqs, settings.RequestQueue, cancellationToken).ConfigureAwait(false);
            await using var server = new SqsServerTransport(
                sqs,
                new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, RunSessionHandler = bridge.RunSessionAsync },
                new McpServerOptions(),
                loggerFactory);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {requestQueueUrl}").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: stop receiving, end every session's child.
            }

            return CliRuntime.Ok;
        }));
        return serve;
    }
}
