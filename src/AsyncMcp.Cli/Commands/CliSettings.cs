using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// The one place a command reads its settings: each flag resolves as command line, then its environment variable,
/// then the config file, then the flag's default.
/// </summary>
internal sealed class CliSettings
{
    /// <summary>The config file, on every command.</summary>
    public static readonly Option<string?> Config = new("--config")
    {
        Description = "A JSON config file whose keys are the long flag names in camelCase (such as {\"requestQueue\": \"mcp-requests\"}); flags and environment variables override it.",
        Recursive = true,
    };

    // The environment variable of each flag that has one; flags without an entry come from the command line,
    // the config file or their default only.
    private static readonly Dictionary<string, string> s_environment = new(StringComparer.Ordinal)
    {
        ["--config"] = "ASYNCMCP_CONFIG",
        ["--transport"] = "ASYNCMCP_TRANSPORT",
        ["--server-url"] = "ASYNCMCP_SERVER_URL",
        ["--secret"] = "ASYNCMCP_WEBHOOK_SECRET",
        ["--request-queue"] = "ASYNCMCP_REQUEST_QUEUE",
        ["--response-queue"] = "ASYNCMCP_RESPONSE_QUEUE",
        ["--server-topic"] = "ASYNCMCP_SERVER_TOPIC",
        ["--server-queue"] = "ASYNCMCP_SERVER_QUEUE",
        ["--client-topic"] = "ASYNCMCP_CLIENT_TOPIC",
        ["--client-queue"] = "ASYNCMCP_CLIENT_QUEUE",
        ["--bearer-token"] = "ASYNCMCP_PROXY_TOKEN",
        ["--webhook-tool"] = "ASYNCMCP_WEBHOOK_TOOLS",
        ["--allow-loopback-webhooks"] = "ASYNCMCP_ALLOW_LOOPBACK_WEBHOOKS",
        ["--allow-private-webhooks"] = "ASYNCMCP_ALLOW_PRIVATE_WEBHOOKS",
        ["--initialize-only"] = "ASYNCMCP_INITIALIZE_ONLY",
        ["--client-id"] = "ASYNCMCP_CLIENT_ID",
        ["--task-tool"] = "ASYNCMCP_TASK_TOOLS",
        ["--task-table"] = "ASYNCMCP_TASK_TABLE",
        ["--task-queue"] = "ASYNCMCP_TASK_QUEUE",
        ["--dynamodb-endpoint-url"] = "AWS_ENDPOINT_URL_DYNAMODB",
        ["--endpoint-url"] = "AWS_ENDPOINT_URL",
        ["--region"] = "AWS_REGION",
    };

    private readonly ParseResult _result;
    private readonly CliConfigFile? _file;

    private CliSettings(ParseResult result, CliConfigFile? file)
    {
        _result = result;
        _file = file;
    }

    /// <summary>Loads the config file named by <c>--config</c> or <c>ASYNCMCP_CONFIG</c>, if any, checked against the command being run.</summary>
    /// <exception cref="CliUsageException">The config file is unreadable, malformed, or has an unknown key or a wrong type.</exception>
    public static CliSettings Load(ParseResult result)
    {
        var path = result.GetValue(Config);
        if (string.IsNullOrWhiteSpace(path))
        {
            path = Environment.GetEnvironmentVariable(s_environment[Config.Name]);
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            return new CliSettings(result, null);
        }

        var command = result.CommandResult.Command;
        var own = Settable(command).ToDictionary(CliConfigFile.KeyOf, o => o, StringComparer.Ordinal);
        var others = AllCommands(result.RootCommandResult.Command)
            .Where(c => c != command)
            .SelectMany(Settable)
            .Select(CliConfigFile.KeyOf)
            .Where(k => !own.ContainsKey(k))
            .ToHashSet(StringComparer.Ordinal);
        return new CliSettings(result, CliConfigFile.Load(path, own, others));
    }

    /// <summary>Says in each flag's help which environment variable it falls back to.</summary>
    public static void DescribeEnvironment(Command root)
    {
        foreach (var option in AllCommands(root).SelectMany(c => c.Options).Distinct())
        {
            if (EnvironmentVariable(option) is { } name && option.Description?.Contains(name, StringComparison.Ordinal) != true)
            {
                option.Description = $"{option.Description} Env: {name}.".TrimStart();
            }
        }
    }

    /// <summary>The environment variable a flag falls back to, if it has one.</summary>
    public static string? EnvironmentVariable(Option option) => s_environment.GetValueOrDefault(option.Name);

    /// <summary>
    /// The flag's value: command line, else environment variable, else config file, else default. The environment
    /// variable of a repeatable flag holds a comma-separated list.
    /// </summary>
    /// <exception cref="CliUsageException">The environment variable's value is not of the flag's type.</exception>
    public T Get<T>(Option<T> option)
    {
        var resolved = Resolve(option);
        return resolved.Source switch
        {
            Source.Environment => FromEnvironment<T>(option, resolved.Variable!, (string)resolved.Value!),
            Source.ConfigFile => (T)resolved.Value!,
            _ => _result.GetValue(option)!,
        };
    }

    /// <summary>Where a flag's value came from, for error messages: empty for the command line or a default, else " from ...".</summary>
    public string Origin(Option option)
    {
        var resolved = Resolve(option);
        return resolved.Source switch
        {
            Source.Environment => $" from {resolved.Variable}",
            Source.ConfigFile => $" from config file '{_file!.Path}', key \"{CliConfigFile.KeyOf(option)}\"",
            _ => string.Empty,
        };
    }

    /// <summary>How else a required flag can be given, for error messages: "or set X, or \"key\" in the config file".</summary>
    public static string Alternatives(Option option) =>
        EnvironmentVariable(option) is { } name
            ? $"or set {name}, or \"{CliConfigFile.KeyOf(option)}\" in the config file"
            : $"or \"{CliConfigFile.KeyOf(option)}\" in the config file";

    // The one statement of the order a flag resolves in, for its value and for where that came from: the command
    // line, the environment variable (its text), the config file (its value, already typed), the default.
    private Resolution Resolve(Option option)
    {
        if (_result.GetResult(option) is { Implicit: false })
        {
            return new(Source.CommandLine);
        }

        if (EnvironmentVariable(option) is { } name && Environment.GetEnvironmentVariable(name) is { Length: > 0 } text)
        {
            return new(Source.Environment, name, text);
        }

        return _file is not null && _file.TryGet(CliConfigFile.KeyOf(option), out var value) ? new(Source.ConfigFile, Value: value) : new(Source.Default);
    }

    private static T FromEnvironment<T>(Option<T> option, string name, string text)
    {
        object? value = typeof(T) == typeof(bool) ? (bool.TryParse(text, out var flag) ? flag : null)
            : typeof(T) == typeof(int) ? (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null)
            : typeof(T) == typeof(string[]) ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : text;
        return value is T typed ? typed : throw new CliUsageException($"{name} (for {option.Name}) must be {(typeof(T) == typeof(bool) ? "true or false" : "a whole number")} (was '{text}').");
    }

    // The flags a config file may set: every flag but --config itself, help and version.
    private static IEnumerable<Option> Settable(Command command) =>
        command.Options.Where(o => o is not HelpOption and not VersionOption && o != Config);

    private static IEnumerable<Command> AllCommands(Command command) =>
        new[] { command }.Concat(command.Subcommands.SelectMany(AllCommands));

    private readonly record struct Resolution(Source Source, string? Variable = null, object? Value = null);

    private enum Source
    {
        CommandLine,
        Environment,
        ConfigFile,
        Default,
    }
}
