using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using AsyncMcp.AspNetCore.Hybrid;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using AsyncMcp.Proxy.Bridging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>asyncmcp serve</c>: puts an existing MCP server (a stdio command or a Streamable HTTP URL) behind SQS, SNS+SQS,
/// webhooks or the hybrid transport.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url") { Description = "The Streamable HTTP endpoint of a running MCP server (instead of a command)." };
        var maxSessions = new Option<int>("--max-sessions") { Description = "The most sessions (child processes or connections) at once.", DefaultValueFactory = _ => 32 };
        var webhookTools = new Option<string[]>("--webhook-tool")
        {
            Description = "hybrid: a tool whose result goes to the client's webhook (repeatable); clients that name no webhook get it on the stream.",
            AllowMultipleArgumentsPerToken = false,
        };
        var responseMode = new Option<string?>("--response-mode") { Description = "hybrid: answer POSTed requests with an SSE stream (sse, default) or one JSON body (json)." };
        var taskTools = new Option<string[]>("--task-tool")
        {
            Description = "sqs, sns-sqs and webhook: a tool of the MCP server to run as a durable task of the Tasks extension (repeatable): a client that asks for a task (protocol 2026-07-28, such as 'asyncmcp call --task') gets a task id at once, the call runs on a child of its own, and its result is recorded for 'tasks/get' from any client process. Other clients call it as before.",
            AllowMultipleArgumentsPerToken = false,
        };
        var taskTable = new Option<string?>("--task-table")
        {
            Description = "--task-tool: the DynamoDB table that keeps the tasks (create it with 'asyncmcp provision --task-table'), so they survive restarts and every replica sees them; without it tasks are kept in this process's memory.",
        };
        var taskQueue = new Option<string?>("--task-queue")
        {
            Description = "--task-tool with --task-table: the SQS queue (URL, or a name: created if missing) that hands each task to a worker, so that every replica runs tasks and another takes over a task whose replica died; without it a task runs in the replica that accepted it.",
        };
        var command = new Argument<string[]>("command")
        {
            Description = "The stdio MCP server to run for each session, with its arguments (after --).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var serve = new Command("serve", "Serve an existing MCP server over SQS, SNS+SQS, webhooks or the hybrid transport without changing it: one child process (or connection) per session, ended with its session.")
        {
            url,
            maxSessions,
            webhookTools,
            responseMode,
            taskTools,
            taskTable,
            taskQueue,
            TransportSettings.DynamoDbEndpointUrl,
            command,
        };
        TransportSettings.AddTo(serve, client: false);
        serve.Options.Add(TransportSettings.Listen);
        serve.Options.Add(TransportSettings.AllowLoopbackWebhooks);
        serve.Options.Add(TransportSettings.AllowPrivateWebhooks);
        serve.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
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
            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose, longRunning: true);
            try
            {
                // Every transport's check, the hybrid one's too, which serves through a forwarder and not a bridge.
                bridgeOptions.Validate();
            }
            catch (ArgumentException ex)
            {
                throw new CliUsageException(bridgeOptions.Command is null == (bridgeOptions.Url is null)
                    ? "give the MCP server to serve: a command after '--', or --url (one of them, not both)."
                    : CliMessages.WithFlags(ex.Message));
            }

            var tools = cli.Get(webhookTools) ?? [];
            var mode = cli.Get(responseMode);
            if (settings.Transport != "hybrid" && (tools.Length > 0 || mode is not null))
            {
                var flag = tools.Length > 0 ? webhookTools : (Option)responseMode;
                throw new CliUsageException($"{flag.Name} applies to --transport hybrid only (the transport is {settings.Transport}{cli.Origin(flag)}).");
            }

            var durable = ReadTaskTools(cli, taskTools, [taskTable, taskQueue], settings.Transport);
            var addressPolicy = ReadAddressPolicy(cli, settings.Transport);
            if (settings.Transport == "hybrid")
            {
                var hybrid = new HybridServerTransportOptions
                {
                    Security = settings.Security,
                    AddressPolicy = addressPolicy,
                    ResponseMode = (mode?.Trim().ToLowerInvariant()) switch
                    {
                        null or "sse" => HybridResponseMode.Sse,
                        "json" => HybridResponseMode.Json,
                        _ => throw new CliUsageException($"--response-mode must be sse or json (was '{mode}'{cli.Origin(responseMode)})."),
                    },
                };
                foreach (var tool in tools)
                {
                    hybrid.WebhookTools.Add(string.IsNullOrWhiteSpace(tool) ? throw new CliUsageException($"--webhook-tool needs a tool name{cli.Origin(webhookTools)}.") : tool.Trim());
                }

                hybrid.Validate();
                await ServeHybridAsync(cli.Get(TransportSettings.Listen), hybrid, bridgeOptions, loggerFactory, cancellationToken);
                return CliRuntime.Ok;
            }

            await using var tasks = durable.Count == 0 ? null : await ServedTasks.StartAsync(cli, bridgeOptions, durable, taskTable, taskQueue, loggerFactory, cancellationToken);
            Func<ModelContextProtocol.Protocol.ITransport, CancellationToken, Task> runSession = tasks is not null
                ? tasks.Bridge.RunSessionAsync
                : new McpServerBridge(bridgeOptions, loggerFactory).RunSessionAsync;
            if (settings.Transport == "webhook")
            {
                await ServeWebhookAsync(cli.Get(TransportSettings.Listen), settings, addressPolicy, runSession, loggerFactory, cancellationToken);
                return CliRuntime.Ok;
            }

            if (settings.Transport == "sns-sqs")
            {
                await ServeSnsSqsAsync(settings, runSession, loggerFactory, cancellationToken);
                return CliRuntime.Ok;
            }

            using var sqs = settings.CreateSqs();
            var requestQueueUrl = await TransportSettings.Resolved.QueueUrlAsync(sqs, settings.RequestQueue!, cancellationToken).ConfigureAwait(false);
            await using var server = new SqsServerTransport(
                sqs,
                new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, RunSessionHandler = runSession, Workers = { WorkerId = CliRuntime.StartWorker() } },
                new McpServerOptions(),
                loggerFactory);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {requestQueueUrl} as worker {server.WorkerId}").ConfigureAwait(false);
            await CliRuntime.WaitForStopAsync(cancellationToken);
            return CliRuntime.Ok;
        }));
        return serve;
    }

    private static async Task ServeSnsSqsAsync(TransportSettings.Resolved settings, Func<ModelContextProtocol.Protocol.ITransport, CancellationToken, Task> runSession, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using var sqs = settings.CreateSqs();
        using var sns = settings.CreateSns();
        var (queueUrl, topicArn) = await settings.ServerQueueAsync(sqs, sns, cancellationToken);
        await using var server = new SnsSqsServerTransport(
            sqs,
            sns,
            new SnsSqsServerTransportOptions { ServerQueueUrl = queueUrl, RunSessionHandler = runSession, Workers = { WorkerId = CliRuntime.StartWorker() } },
            new McpServerOptions(),
            loggerFactory);
        await server.StartAsync(cancellationToken);
        var subscribed = topicArn is null ? string.Empty : $" (subscribed to {topicArn})";
        await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {queueUrl}{subscribed} as worker {server.WorkerId}");
        await CliRuntime.WaitForStopAsync(cancellationToken);
    }

    /// <summary>The <c>--task-tool</c> names, checked: none, or a transport that serves through <c>RunSessionHandler</c>.</summary>
    /// <exception cref="CliUsageException">An empty name, the hybrid transport, or a task table or queue without task tools.</exception>
    private static HashSet<string> ReadTaskTools(CliSettings cli, Option<string[]> option, Option<string?>[] taskSettings, string transport)
    {
        if (cli.Get(option) is not { Length: > 0 } && taskSettings.FirstOrDefault(o => !string.IsNullOrWhiteSpace(cli.Get(o))) is { } setting)
        {
            throw new CliUsageException($"{setting.Name}{cli.Origin(setting)} is for the tasks of --task-tool; name the tools to run as tasks with --task-tool.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in cli.Get(option) ?? [])
        {
            names.Add(string.IsNullOrWhiteSpace(name) ? throw new CliUsageException($"--task-tool needs a tool name{cli.Origin(option)}.") : name.Trim());
        }

        return names.Count > 0 && transport == "hybrid"
            ? throw new CliUsageException($"--task-tool applies to --transport sqs, sns-sqs and webhook (the transport is hybrid{cli.Origin(option)}).")
            : names;
    }

    /// <summary>The reply-address policy of the webhook and hybrid servers: public addresses only, unless loopback or private networks are allowed.</summary>
    /// <exception cref="CliUsageException">One of the flags is set with another transport.</exception>
    private static WebhookAddressPolicy ReadAddressPolicy(CliSettings cli, string transport)
    {
        var policy = new WebhookAddressPolicy
        {
            AllowLoopback = cli.Get(TransportSettings.AllowLoopbackWebhooks),
            AllowPrivateNetworks = cli.Get(TransportSettings.AllowPrivateWebhooks),
        };
        if (transport is not ("webhook" or "hybrid") && (policy.AllowLoopback || policy.AllowPrivateNetworks))
        {
            var flag = policy.AllowLoopback ? TransportSettings.AllowLoopbackWebhooks : TransportSettings.AllowPrivateWebhooks;
            throw new CliUsageException($"{flag.Name} applies to --transport webhook or hybrid only (the transport is {transport}{cli.Origin(flag)}).");
        }

        return policy;
    }

    private static async Task ServeWebhookAsync(string? listen, TransportSettings.Resolved settings, WebhookAddressPolicy addressPolicy, Func<ModelContextProtocol.Protocol.ITransport, CancellationToken, Task> runSession, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        RequireListen(listen, "webhook");
        await using var server = new WebhookServerTransport(
            new WebhookServerTransportOptions { Security = settings.Security, AddressPolicy = addressPolicy, RunSessionHandler = runSession },
            new McpServerOptions(),
            loggerFactory);
        server.Start();
        await using var app = CliWebHost.CreateBuilder(listen).Build();
        app.MapMcpWebhook("/mcp/request", server);
        var address = await CliWebHost.StartAsync(app, cancellationToken);
        await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {address}/mcp/request");
        await CliRuntime.WaitForStopAsync(cancellationToken);
        await app.StopAsync(CancellationToken.None);
    }

    private static void RequireListen([NotNull] string? listen, string transport)
    {
        if (!CliWebHost.IsListenAddress(listen))
        {
            throw new CliUsageException($"--listen is required with --transport {transport} and must be an http URL such as http://127.0.0.1:8080 (was '{listen}').");
        }
    }

    /// <summary>
    /// Serves the MCP server through an SDK server of our own (<see cref="McpServerForwarder"/>) on the hybrid transport:
    /// standard Streamable HTTP for every client, webhook delivery of the named tools for clients that name a webhook.
    /// </summary>
    private static async Task ServeHybridAsync(string? listen, HybridServerTransportOptions hybrid, McpServerBridgeOptions server, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        RequireListen(listen, "hybrid");
        await using var forwarder = new McpServerForwarder(
            new McpServerForwarderOptions
            {
                CreateUpstreamTransport = () => server.CreateTransport(loggerFactory),
                MaxSessions = server.MaxSessions,

                // The hybrid transport's own keys say where and how the client takes results; they are not for the server.
                MetaKeysNotForwarded = new HashSet<string>(StringComparer.Ordinal) { HybridMeta.WebhookUrl, HybridMeta.Delivery, HybridMeta.Acknowledge },
            },
            loggerFactory);
        UpstreamServerInfo upstream;
        try
        {
            upstream = await forwarder.ProbeAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new IOException($"the MCP server '{server.Describe()}' could not be started or reached: {ex.Message}", ex);
        }

        var known = upstream.Tools.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tool in hybrid.WebhookTools.Where(t => !known.Contains(t)))
        {
            await Console.Error.WriteLineAsync($"asyncmcp serve: warning: --webhook-tool '{tool}' matches no tool of the MCP server (its tools: {string.Join(", ", known.Order(StringComparer.Ordinal))}); calls to it answer on the stream.");
        }

        var builder = CliWebHost.CreateBuilder(listen, loggerFactory);
        builder.Services.AddMcpServer(forwarder.ConfigureServer).WithHybridTransport(o =>
        {
            o.Security = hybrid.Security;
            o.AddressPolicy = hybrid.AddressPolicy;
            o.ResponseMode = hybrid.ResponseMode;
            foreach (var tool in hybrid.WebhookTools)
            {
                o.WebhookTools.Add(tool);
            }
        });
        builder.Services.Configure<HttpServerTransportOptions>(o =>
        {
            // Options of its own for each session (the options factory runs ConfigureServer for each), which the
            // forwarder binds the session's upstream connection to.
            o.ConfigureSessionOptions = static (_, _, _) => Task.CompletedTask;
#pragma warning disable MCPEXP002, MCP9006 // The SDK's hooks for a session's own server and its idle expiry; the other serve modes close idle sessions after 30 minutes too.
            o.RunSessionHandler = (_, session, token) => forwarder.RunSessionAsync(session, token);
            o.IdleTimeout = TimeSpan.FromMinutes(30);
#pragma warning restore MCPEXP002, MCP9006
        });
        await using var app = builder.Build();
        app.MapMcpHybrid("/mcp");
        var address = await CliWebHost.StartAsync(app, cancellationToken);
        await Console.Error.WriteLineAsync($"asyncmcp serve: serving on {address}/mcp");
        await CliRuntime.WaitForStopAsync(cancellationToken);

        // The children first: the command has little time after a signal, and open GET streams can hold the web host.
        await forwarder.DisposeAsync();
        await app.StopAsync(CancellationToken.None);
    }
}
