using System.CommandLine;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// What every command shares: logging to standard error (standard output may be an MCP stdio channel), the wait for a
/// stop signal, and exit codes with one line on standard error for every failure.
/// </summary>
internal static class CliRuntime
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private static string? s_worker;

    /// <summary>
    /// Names this process as one of several workers on a queue: a new worker id, which <c>serve</c> gives its server and
    /// which every log line of the process carries from now on, so that the lines of replicas can be told apart.
    /// </summary>
    /// <returns>The worker id.</returns>
    public static string StartWorker()
    {
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        Volatile.Write(ref s_worker, id);
        return id;
    }

    /// <summary>How each log line starts: the command's name, with the worker id once there is one.</summary>
    private static string Prefix => Volatile.Read(ref s_worker) is { } worker ? $"asyncmcp [worker {worker}]" : "asyncmcp";

    /// <summary>
    /// The command's logging. With <c>--verbose</c>, everything from debug level, the SDK's logs included, in full (for
    /// a long-running command, each entry on a line that starts with the command's name and worker, as replicas' logs
    /// are read side by side). Otherwise a one-shot command (<paramref name="longRunning"/> false: <c>call</c>,
    /// <c>provision</c>) logs nothing, its outcome being its one line; a long-running one (<c>serve</c>, <c>proxy</c>)
    /// shows AsyncMcp's own warnings and errors, one line each, and nothing of the SDK's or ASP.NET Core's logs.
    /// </summary>
    public static ILoggerFactory CreateLoggerFactory(bool verbose, bool longRunning) => LoggerFactory.Create(builder =>
    {
        if (verbose && longRunning)
        {
            builder
                .SetMinimumLevel(LogLevel.Debug)
                .AddConsole(o =>
                {
                    o.LogToStandardErrorThreshold = LogLevel.Trace;
                    o.FormatterName = NamedFormatter.Name;
                })
                .AddConsoleFormatter<NamedFormatter, ConsoleFormatterOptions>();
            return;
        }

        if (verbose)
        {
            builder.SetMinimumLevel(LogLevel.Debug).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            return;
        }

        if (!longRunning)
        {
            return;
        }

        builder
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter((category, level) => level >= LogLevel.Warning && category is not null && category.StartsWith("AsyncMcp.", StringComparison.Ordinal))
            .AddConsole(o =>
            {
                o.LogToStandardErrorThreshold = LogLevel.Trace;
                o.FormatterName = OneLineFormatter.Name;
            })
            .AddConsoleFormatter<OneLineFormatter, ConsoleFormatterOptions>();
    });

    /// <summary>Waits for Ctrl+C or SIGTERM (<paramref name="cancellationToken"/> cancelled); the caller then stops what it runs.</summary>
    public static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: the caller stops receiving and ends every session.
        }
    }

    /// <summary>
    /// Answers a command line that does not parse (an unknown flag, a missing or malformed value) with one line naming
    /// the problem (and the flag meant, when a known one is close) and exit code 2, instead of the whole help text.
    /// </summary>
    /// <returns>The exit code, or <see langword="null"/> when the command line parsed.</returns>
    public static int? ReportParseErrors(ParseResult result)
    {
        if (result.Errors.Count == 0)
        {
            return null;
        }

        // The first word that matched nothing is the likeliest mistake ("cal" rather than the missing command it causes).
        var unmatched = result.UnmatchedTokens.Count > 0 ? result.UnmatchedTokens[0] : null;
        var error = result.Errors.FirstOrDefault(e => unmatched is not null && e.Message.Contains($"'{unmatched}'", StringComparison.Ordinal)) ?? result.Errors[0];
        var command = result.CommandResult.Command;
        var hint = unmatched is null ? string.Empty : Suggest(command, unmatched);
        var path = string.Join(' ', Ancestry(result.CommandResult).Select(c => c.Name).Reverse());
        Console.Error.WriteLine($"asyncmcp: {OneLine(error.Message).TrimEnd('.')}{hint} (see '{path} --help').");
        return Usage;
    }

    /// <summary>Runs a command body, turning every failure into one clear line on standard error and an exit code.</summary>
    public static async Task<int> RunAsync(ParseResult result, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException ex)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: {OneLine(ex.Message)}");
            return Usage;
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: invalid configuration: {OneLine(CliMessages.WithFlags(ex.Message))}");
            return Usage;
        }
        catch (OperationCanceledException)
        {
            return Ok;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: {OneLine(CliMessages.Describe(ex))}");
            if (IsVerbose(result))
            {
                await Console.Error.WriteLineAsync(ex.ToString());
            }

            return Failed;
        }
    }

    /// <summary>A message on one line: the first line of each paragraph, joined.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static bool IsVerbose(ParseResult result) =>
        result.CommandResult.Command.Options.Contains(TransportSettings.Verbose) && result.GetValue(TransportSettings.Verbose);

    private static IEnumerable<Command> Ancestry(System.CommandLine.Parsing.CommandResult result)
    {
        for (var current = result; current is not null; current = current.Parent as System.CommandLine.Parsing.CommandResult)
        {
            yield return current.Command;
        }
    }

    /// <summary>" (did you mean --x?)" for a mistyped flag or command close to one the command has, else empty.</summary>
    private static string Suggest(Command command, string token)
    {
        var name = token.Split('=', 2)[0];
        var candidates = name.StartsWith('-')
            ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(alias => alias.StartsWith("--", StringComparison.Ordinal))
            : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
        var closest = candidates
            .Select(alias => (Alias: alias, Distance: EditDistance(name, alias)))
            .Where(c => c.Distance <= Math.Max(2, name.Length / 4))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return closest.Alias is null ? string.Empty : $" (did you mean {closest.Alias}?)";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// <c>--verbose</c> log entries of a long-running command: the entry's line starts with the command's name and worker
    /// (<c>asyncmcp [worker 1a2b3c4d]: debug: Category[id]: …</c>); more lines of the message, and an exception in full,
    /// follow indented.
    /// </summary>
    private sealed class NamedFormatter() : ConsoleFormatter(Name)
    {
        public new const string Name = "asyncmcp-named";

        public override void Write<TState>(in Microsoft.Extensions.Logging.Abstractions.LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
        {
            var level = logEntry.LogLevel switch
            {
                LogLevel.Trace => "trace",
                LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warning",
                LogLevel.Error => "error",
                _ => "critical",
            };
            var lines = logEntry.Formatter(logEntry.State, logEntry.Exception).Split('\n');
            textWriter.WriteLine($"{Prefix}: {level}: {logEntry.Category}[{logEntry.EventId.Id}]: {lines[0].TrimEnd('\r')}");
            foreach (var line in lines.Skip(1).Concat(logEntry.Exception?.ToString().Split('\n') ?? []))
            {
                textWriter.WriteLine("    " + line.TrimEnd('\r'));
            }
        }
    }

    /// <summary>Log entries as single lines (<c>asyncmcp: warning: …</c>), an exception by its message only; <c>--verbose</c> gives the full form.</summary>
    private sealed class OneLineFormatter() : ConsoleFormatter(Name)
    {
        public new const string Name = "asyncmcp-one-line";

        public override void Write<TState>(in Microsoft.Extensions.Logging.Abstractions.LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
        {
            var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
            var level = logEntry.LogLevel >= LogLevel.Error ? "error" : "warning";
            var cause = logEntry.Exception is { } exception && !message.Contains(exception.Message, StringComparison.Ordinal) ? $" ({CliMessages.Innermost(exception)})" : string.Empty;
            textWriter.WriteLine($"{Prefix}: {level}: {OneLine(CliMessages.WithFlags(message))}{OneLine(cause)}");
        }
    }
}

/// <summary>A failure at run time (the server does not answer, a queue or topic does not exist): one line, exit code 1.</summary>
internal sealed class CliFailureException(string message, Exception? innerException = null) : Exception(message, innerException);
