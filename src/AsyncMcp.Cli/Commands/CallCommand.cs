using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sqs;
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
        var call = new Command("call", "Call a tool (or list the tools) of an MCP server behind an async transport once, with a progress bar fed by the server's progress notifications.")
        {
            tool,
            arguments,
            json,
            protocol,
        };
        TransportSettings.AddTo(call, client: true);
        call.SetAction((result, cancellationToken) => CliRuntime.RunAsync(async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: true);
            var toolArguments = ParseArguments(cli.Get(arguments) ?? []);
            var asJson = cli.Get(json);
            var connection = ClientProtocol.Read(cli, settings.Transport, protocol);
            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose);
            var (transports, owned) = await settings.ClientTransportsAsync(loggerFactory, cancellationToken, connection);
            using var ownedScope = owned;
            await using var client = await McpClient.CreateAsync(
                transports(),
                connection.CreateClientOptions(),
                loggerFactory,
                cancellationToken).ConfigureAwait(false);

            if (cli.Get(tool) is not { } name)
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

            CallToolResult callResult;
            if (asJson)
            {
                callResult = await client.CallToolAsync(name, toolArguments, cancellationToken: cancellationToken).ConfigureAwait(false);
                Console.WriteLine(JsonSerializer.SerializeToNode(callResult, McpJsonUtilities.DefaultOptions)!.ToJsonString());
            }
            else
            {
                callResult = await AnsiConsole.Progress()
                    .AutoClear(false)
                    .StartAsync(async context =>
                    {
                        var bar = context.AddTask(Markup.Escape(name), maxValue: 100);
                        var progress = new Progress<ProgressNotificationValue>(value =>
                        {
                            if (value.Total is { } total && total > 0)
                            {
                                bar.MaxValue = total;
                                bar.Value = value.Progress;
                            }
                            else
                            {
                                bar.IsIndeterminate = true;
                            }

                            if (value.Message is { } message)
                            {
                                bar.Description = Markup.Escape($"{name}: {message}");
                            }
                        });
                        var done = await client.CallToolAsync(name, toolArguments, progress, cancellationToken: cancellationToken).ConfigureAwait(false);
                        bar.Value = bar.MaxValue;
                        bar.StopTask();
                        return done;
                    }).ConfigureAwait(false);
                foreach (var block in callResult.Content)
                {
                    Console.WriteLine(block is TextContentBlock text ? text.Text : JsonSerializer.Serialize(block, McpJsonUtilities.DefaultOptions));
                }
            }

            return callResult.IsError == true ? CliRuntime.Failed : CliRuntime.Ok;
        }));
        return call;
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
