using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sns;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp call</c>: a one-shot client that lists tools or calls one, showing its progress.</summary>
internal static class CallCommand
{
    public static Command Create()
    {
        var tool = new Option<string?>("--tool") { Description = "The tool to call; without it, the server's tools are listed." };
        var arguments = new Option<string[]>("--arg")
        {
            Description = "A tool argument as key=value (repeatable). The value is read as JSON when it parses (numbers, true/false, objects), else as text.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on standard output (for scripts) instead of text and a progress bar." };
        var protocol = new Option<string?>("--protocol-version")
        {
            Description = "The MCP protocol revision to ask for: 2026-07-28 (strict), or a revision with the initialize handshake (a server answering an older one we support is accepted). Default: 2026-07-28 with a fallback to initialize.",
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the server: to connect, then for the answer (a progress notice from the server restarts the wait); 0 waits for ever.",
            DefaultValueFactory = _ => 60,
        };
        var call = new Command("call", "Call a tool (or list the tools) of an MCP server behind an async transport once, with a progress bar fed by the server's progress notifications.")
        {
            tool,
            arguments,
            json,
            protocol,
            timeout,
        };
        TransportSettings.AddTo(call, client: true);
        call.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: true);
            var toolArguments = ParseArguments(cli.Get(arguments) ?? []);
            var asJson = cli.Get(json);
            var connection = ClientProtocol.Read(cli, settings.Transport, protocol);
            var seconds = cli.Get(timeout);
            if (seconds < 0 || seconds > 86_400)
            {
                throw new CliUsageException($"--timeout must be from 0 (no limit) to 86400 seconds (was {seconds}{cli.Origin(timeout)}).");
            }

            var wait = seconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
            using var answerWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var progress = new CallProgress(() => answerWait.CancelAfter(wait));
            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose, longRunning: false);
            var (transports, owned) = await settings.ClientTransportsAsync(loggerFactory, cancellationToken, connection);
            using var ownedScope = owned;
            var clientOptions = connection.CreateClientOptions();
            clientOptions.InitializationTimeout = wait;
            clientOptions.Handlers = new McpClientHandlers { NotificationHandlers = [progress.Handler] };
            McpClient client;
            try
            {
                client = await McpClient.CreateAsync(transports(), clientOptions, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new CliFailureException($"no answer from the server on the {settings.DescribeServer()} within {seconds} s: is 'asyncmcp serve' (or another MCP server) running there? (--timeout waits longer)", ex);
            }
            catch (HttpRequestException ex)
            {
                throw new CliFailureException($"the {settings.DescribeServer()} cannot be reached: {CliMessages.Chain(ex)}", ex);
            }
            catch (SnsRequestException ex) when (ex.ErrorCode == "NotFound")
            {
                throw new CliFailureException($"the {settings.DescribeServer()} does not exist ({ex.Message}); give an existing topic's ARN, or its name to create it (--server-topic).", ex);
            }

            await using var _ = client;
            answerWait.CancelAfter(wait);
            var what = cli.Get(tool) is { } called ? $"tools/call '{called}'" : "tools/list";
            try
            {
                return await RunAsync(client, cli.Get(tool), toolArguments, asJson, progress, answerWait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (answerWait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new CliFailureException($"the server on the {settings.DescribeServer()} did not answer {what} within {seconds} s (--timeout waits longer).", ex);
            }
        }));
        return call;
    }

    private static async Task<int> RunAsync(McpClient client, string? name, Dictionary<string, object?> toolArguments, bool asJson, CallProgress progress, CancellationToken cancellationToken)
    {
        if (name is null)
        {
            var tools = await client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (asJson)
            {
                Console.WriteLine(new JsonArray([.. tools.Select(t => JsonSerializer.SerializeToNode(t.ProtocolTool, McpJsonUtilities.DefaultOptions))]).ToJsonString());
            }
            else
            {
                var table = new Table().AddColumn("tool").AddColumn("description");
                foreach (var t in tools)
                {
                    table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Description ?? string.Empty));
                }

                AnsiConsole.Write(table);
            }

            return CliRuntime.Ok;
        }

        // The progress token goes with the request whether or not a bar is drawn: every notice restarts the wait.
        var options = new RequestOptions { ProgressToken = progress.Token };
        CallToolResult callResult;
        if (asJson)
        {
            callResult = await client.CallToolAsync(name, toolArguments, options: options, cancellationToken: cancellationToken).ConfigureAwait(false);
            Console.WriteLine(JsonSerializer.SerializeToNode(callResult, McpJsonUtilities.DefaultOptions)!.ToJsonString());
        }
        else if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            progress.AttachLines(Console.Out, name);
            callResult = await client.CallToolAsync(name, toolArguments, options: options, cancellationToken: cancellationToken).ConfigureAwait(false);
            progress.Complete();
        }
        else
        {
            callResult = await AnsiConsole.Progress()
                .AutoClear(false)
                .StartAsync(async context =>
                {
                    progress.Attach(context.AddTask(Markup.Escape(name), maxValue: 100), name);
                    var done = await client.CallToolAsync(name, toolArguments, options: options, cancellationToken: cancellationToken).ConfigureAwait(false);
                    progress.Complete();
                    return done;
                }).ConfigureAwait(false);
        }

        if (!asJson)
        {
            foreach (var block in callResult.Content)
            {
                Console.WriteLine(block is TextContentBlock text ? text.Text : JsonSerializer.Serialize(block, McpJsonUtilities.DefaultOptions));
            }
        }

        return callResult.IsError == true ? CliRuntime.Failed : CliRuntime.Ok;
    }

    private static Dictionary<string, object?> ParseArguments(string[] pairs)
    {
        var parsed = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliUsageException($"--arg '{pair}' must be key=value.");
            }

            var value = pair[(equals + 1)..];
            object? typed;
            try
            {
                typed = JsonSerializer.Deserialize<JsonElement>(value);
            }
            catch (JsonException)
            {
                typed = value;
            }

            parsed[pair[..equals]] = typed;
        }

        return parsed;
    }
}
