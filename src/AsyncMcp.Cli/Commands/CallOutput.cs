using System.Text.Json;
using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// How the client commands show a call: a progress bar on a terminal, progress lines elsewhere, nothing with
/// <c>--json</c>; then the result as text (or JSON), with exit code 1 when the tool reported an error.
/// </summary>
internal static class CallOutput
{
    /// <summary>Runs <paramref name="run"/> while <paramref name="progress"/> is shown as the output allows.</summary>
    public static async Task<T> WithProgressAsync<T>(bool asJson, CallProgress progress, string name, Func<Task<T>> run)
    {
        if (asJson)
        {
            return await run().ConfigureAwait(false);
        }

        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            progress.AttachLines(Console.Out, name);
            var done = await run().ConfigureAwait(false);
            progress.Complete();
            return done;
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .StartAsync(async context =>
            {
                progress.Attach(context.AddTask(Markup.Escape(name), maxValue: 100), name);
                var done = await run().ConfigureAwait(false);
                progress.Complete();
                return done;
            }).ConfigureAwait(false);
    }

    /// <summary>Prints a tool's result: its text blocks as text (others as JSON), or the whole result as one JSON line.</summary>
    /// <returns>The exit code: <see cref="CliRuntime.Failed"/> when the tool reported an error.</returns>
    public static int Print(CallToolResult result, bool asJson)
    {
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions)!.ToJsonString());
        }
        else
        {
            foreach (var block in result.Content)
            {
                Console.WriteLine(block is TextContentBlock text ? text.Text : JsonSerializer.Serialize(block, McpJsonUtilities.DefaultOptions));
            }
        }

        return result.IsError == true ? CliRuntime.Failed : CliRuntime.Ok;
    }

    /// <summary>A task status as the extension spells it (<c>input_required</c>).</summary>
    public static string StatusName(McpTaskStatus status) => JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}
