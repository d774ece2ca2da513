using System.CommandLine;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using AsyncMcp.Proxy.Bridging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp serve</c>: puts an existing MCP server (a stdio command or a Streamable HTTP URL) behind SQS, SNS+SQS or webhooks.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url") { Description = "The Streamable HTTP endpoint of a running MCP server (instead of a command)." };
        var maxSessions = new Option<int>("--max-sessions") { Description = "The most sessions (child processes or connections) at once.", DefaultValueFactory = _ => 32 };
        var command = new Argument<string[]>("command")
        {
            Description = "The stdio MCP server to run for each session, with its arguments (after --).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var serve = new Command("serve", "Serve an existing MCP server over SQS, SNS+SQS or webhooks without changing it: one child process (or connection) per session, ended with its session.")
        {
            url,
            maxSessions,
            command,
        };
        TransportSettings.AddTo(serve, client: false);
        serve.Options.Add(TransportSettings.Listen);
        serve.SetAction((result, cancellationToken) => CliRuntime.RunAsync(async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: false);
            var words = result.GetValue(command) ?? [];
            var bridgeOptions = new McpServerBridgeOptions
            {
                Command = words.Length > 0 ? words[0] : null,
                Arguments = [.. words.Skip(1)],
                Url = cli.Get(url) is { } urlText ? (Uri.TryCreate(urlText, UriKind.Absolute, out var parsedUrl) ? parsedUrl : throw new CliUsageException($"--url must be an absolute http(s) URL (was '{urlText}'{cli.Origin(url)}).")) : null,
                MaxSessions = cli.Get(maxSessions),
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

            if (settings.Transport == "hybrid")
            {
                throw new CliUsageException("serve speaks sqs, sns-sqs and webhook; the hybrid transport serves MCP servers written with the SDK (WithHybridTransport), not bridged ones.");
            }

            if (settings.Transport == "webhook")
            {
                await ServeWebhookAsync(cli.Get(TransportSettings.Listen), settings, bridge, loggerFactory, cancellationToken);
                return CliRuntime.Ok;
            }

            if (settings.Transport == "sns-sqs")
            {
                await ServeSnsSqsAsync(settings, bridge, loggerFactory, cancellationToken);
                return CliRuntime.Ok;
            }

            using var sqs = settings.CreateSqs();
            var requestQueueUrl = await TransportSettings.Resolved.QueueUrlAsync(sqs, settings.RequestQueue!, cancellationToken).ConfigureAwait(false);
            await using var server = new SqsServerTransport(
                sqs,
                new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, RunSessionHandler = bridge.RunSessionAsync },
                new McpServerOptions(),
                loggerFactory);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {requestQueueUrl}").ConfigureAwait(false);
            await WaitForStopAsync(cancellationToken);
            return CliRuntime.Ok;
        }));
        return serve;
    }

    private static async Task ServeSnsSqsAsync(TransportSettings.Resolved settings, McpServerBridge bridge, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using var sqs = settings.CreateSqs();
        using var sns = settings.CreateSns();
        var (queueUrl, topicArn) = await settings.ServerQueueAsync(sqs, sns, cancellationToken);
        await using var server = new SnsSqsServerTransport(
            sqs,
            sns,
            new SnsSqsServerTransportOptions { ServerQueueUrl = queueUrl, RunSessionHandler = bridge.RunSessionAsync },
            new McpServerOptions(),
            loggerFactory);
        await server.StartAsync(cancellationToken);
        var subscribed = topicArn is null ? string.Empty : $" (subscribed to {topicArn})";
        await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {queueUrl}{subscribed}");
        await WaitForStopAsync(cancellationToken);
    }

    private static async Task ServeWebhookAsync(string? listen, TransportSettings.Resolved settings, McpServerBridge bridge, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (listen is null || !Uri.TryCreate(listen, UriKind.Absolute, out var listenUri) || listenUri.Scheme != Uri.UriSchemeHttp)
        {
            throw new CliUsageException($"--listen is required with --transport webhook and must be an http URL such as http://127.0.0.1:8080 (was '{listen}').");
        }

        await using var server = new WebhookMcpServer(
            new WebhookServerTransportOptions { Security = settings.Security, RunSessionHandler = bridge.RunSessionAsync },
            new McpServerOptions(),
            loggerFactory);
        server.Start();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen);
        await using var app = builder.Build();
        app.MapMcpWebhook("/mcp/request", server);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {address}/mcp/request");
        await WaitForStopAsync(cancellationToken);
        await app.StopAsync(CancellationToken.None);
    }

    private static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: stop receiving, end every session's child.
        }
    }
}
