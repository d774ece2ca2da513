using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using AsyncMcp.Tasks;
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
        var task = new Option<bool>("--task")
        {
            Description = "Ask the server to run the call as a task of the Tasks extension (io.modelcontextprotocol/tasks, protocol revision 2026-07-28) and print its id (--json: {\"taskId\": ...}) instead of waiting; follow it with 'asyncmcp task wait ID'. A server that answers at once gets its result printed as without --task.",
        };
        var call = new Command("call", "Call a tool (or list the tools) of an MCP server behind an async transport once, with a progress bar fed by the server's progress notifications.")
        {
            tool,
            arguments,
            json,
            protocol,
            timeout,
            task,
            ClientConnection.ClientId,
        };
        TransportSettings.AddTo(call, client: true);
        call.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: true);
            var toolArguments = ParseArguments(cli.Get(arguments) ?? []);
            var asJson = cli.Get(json);
            var connection = ClientProtocol.Read(cli, settings.Transport, protocol);
            var seconds = ClientConnection.ReadTimeout(cli, timeout);
            var asTask = cli.Get(task);
            var name = cli.Get(tool);
            if (asTask)
            {
                if (name is null)
                {
                    throw new CliUsageException($"--task{cli.Origin(task)} needs --tool: the tool to run as a task.");
                }

                if (connection.SdkProtocolVersion is null && connection.InitializeRevision is { } older)
                {
                    throw new CliUsageException($"--task needs protocol revision {McpTasks.MinimumProtocolVersion}: the Tasks extension is not defined for {older} (--protocol-version{cli.Origin(protocol)}); leave --protocol-version out or give {McpTasks.MinimumProtocolVersion}.");
                }

                if (connection.AnswerDiscoverLocally)
                {
                    throw new CliUsageException($"--task needs protocol revision {McpTasks.MinimumProtocolVersion}, which --initialize-only{cli.Origin(TransportSettings.InitializeOnly)} rules out: the server knows only the initialize handshake.");
                }
            }

            // Every notice restarts the wait for the answer, once there is one.
            Action? restartWait = null;
            var progress = new CallProgress(() => restartWait?.Invoke());
            await using var session = await ClientConnection.ConnectAsync(settings, connection, seconds, ClientConnection.ReadClientId(cli), [progress.Handler], cancellationToken).ConfigureAwait(false);
            restartWait = session.RestartWait;
            var what = name is not null ? $"tools/call '{name}'" : "tools/list";
            try
            {
                if (asTask)
                {
                    return await StartTaskAsync(session, name!, toolArguments, asJson, progress.Token).ConfigureAwait(false);
                }

                return await RunAsync(session.Client, name, toolArguments, asJson, progress, session.AnswerToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (session.TimedOut(cancellationToken))
            {
                throw new CliFailureException($"the server on the {session.Server} did not answer {what} within {seconds} s (--timeout waits longer).", ex);
            }
        }));
        return call;
    }

    /// <summary><c>call --task</c>: starts the task and prints its id, or the result of a server that answered at once.</summary>
    private static async Task<int> StartTaskAsync(ClientConnection session, string name, Dictionary<string, object?> toolArguments, bool asJson, ProgressToken progressToken)
    {
        if (!McpTasks.IsDefinedFor(session.Client.NegotiatedProtocolVersion))
        {
            throw new CliFailureException($"the server on the {session.Server} speaks protocol revision {session.Client.NegotiatedProtocolVersion}, which has no tasks (the Tasks extension needs {McpTasks.MinimumProtocolVersion}); call the tool without --task.");
        }

        // A progress token, so that a server that answers at once and reports progress keeps the wait going (no bar: most
        // such calls answer with a task id at once).
        var requestParams = new CallToolRequestParams
        {
            Name = name,
            Arguments = toolArguments.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value, McpJsonUtilities.DefaultOptions), StringComparer.Ordinal),
            Meta = new JsonObject { ["progressToken"] = progressToken.ToString() },
        };
        var started = await session.Client.CallToolAsTaskAsync(requestParams, session.AnswerToken).ConfigureAwait(false);
        if (!started.IsTask)
        {
            // The server answered at once (the tool is not one it runs as a task): the result, as call prints one.
            return CallOutput.Print(started.Result, asJson);
        }

        if (asJson)
        {
            Console.WriteLine(JsonSerializer.SerializeToNode(started.Task, McpTasksJsonContext.Default.CreateTaskResult)!.ToJsonString());
        }
        else
        {
            Console.WriteLine(started.TaskId);
            await Console.Error.WriteLineAsync($"asyncmcp call: task {started.TaskId} started ({CallOutput.StatusName(started.Task.Status)}); follow it with: asyncmcp task wait {started.TaskId}").ConfigureAwait(false);
        }

        return CliRuntime.Ok;
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
        var callResult = await CallOutput.WithProgressAsync(
            asJson,
            progress,
            name,
            async () => await client.CallToolAsync(name, toolArguments, options: options, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return CallOutput.Print(callResult, asJson);
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
