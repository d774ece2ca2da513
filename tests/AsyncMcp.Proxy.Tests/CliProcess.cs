using System.Text.Json.Nodes;
using System.Xml.Linq;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>Runs the <c>asyncmcp</c> command (and the MCP Inspector CLI in front of it) as real processes against the emulator.</summary>
internal sealed class CliProcess(BridgeEmulator emulator)
{
    public static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "asyncmcp.dll");

    public static readonly string Everything = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

    private static readonly string s_inspector = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

    // Settings a developer's shell may hold would change what the command does: every test starts without them.
    private static readonly string[] s_cleared =
    [
        "ASYNCMCP_CONFIG", "ASYNCMCP_TRANSPORT", "ASYNCMCP_REQUEST_QUEUE", "ASYNCMCP_RESPONSE_QUEUE", "ASYNCMCP_SERVER_TOPIC",
        "ASYNCMCP_SERVER_QUEUE", "ASYNCMCP_CLIENT_TOPIC", "ASYNCMCP_CLIENT_QUEUE", "ASYNCMCP_SERVER_URL", "ASYNCMCP_WEBHOOK_SECRET", "ASYNCMCP_PROXY_TOKEN",
        "ASYNCMCP_WEBHOOK_TOOLS", "ASYNCMCP_ALLOW_LOOPBACK_WEBHOOKS", "ASYNCMCP_ALLOW_PRIVATE_WEBHOOKS", "ASYNCMCP_INITIALIZE_ONLY",
        "ASYNCMCP_CLIENT_ID", "ASYNCMCP_TASK_TOOLS", "ASYNCMCP_TASK_TABLE", "ASYNCMCP_TASK_QUEUE", "AWS_ENDPOINT_URL_DYNAMODB",
    ];

    /// <summary>The emulator's endpoint and test credentials, and no other asyncmcp settings.</summary>
    public Dictionary<string, string> Environment(Dictionary<string, string>? overrides = null)
    {
        var environment = s_cleared.ToDictionary(name => name, _ => string.Empty);
        environment["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl;
        environment["AWS_REGION"] = FauxqsEmulator.Region;
        environment["AWS_ACCESS_KEY_ID"] = "test";
        environment["AWS_SECRET_ACCESS_KEY"] = "test";
        foreach (var pair in overrides ?? [])
        {
            environment[pair.Key] = pair.Value;
        }

        return environment;
    }

    /// <summary>Runs one command to its end.</summary>
    public async Task<(int Exit, string Output)> RunAsync(string[] arguments, Dictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        await using var cli = ChildProcess.Start("dotnet", [Cli, .. arguments], workingDirectory ?? RepositoryPaths.Infra, Environment(environment));
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (exit, cli.Output);
    }

    /// <summary>Runs one command to its end; its standard output and standard error apart.</summary>
    public async Task<(int Exit, string StandardOutput, string StandardError)> RunSeparatedAsync(string[] arguments, Dictionary<string, string>? environment = null)
    {
        await using var cli = ChildProcess.Start("dotnet", [Cli, .. arguments], RepositoryPaths.Infra, Environment(environment));
        var exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (exit, cli.StandardOutput, cli.StandardError);
    }

    /// <summary>The lines of a process's output, without a trailing empty one.</summary>
    public static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    /// <summary>Starts <c>asyncmcp serve</c> for server-everything and waits until it is receiving; the caller disposes it, which ends it.</summary>
    public async Task<ChildProcess> StartServeAsync(string[] options, Dictionary<string, string>? environment = null)
    {
        var serve = ChildProcess.Start("dotnet", [Cli, "serve", .. options, "--", RepositoryPaths.Node, Everything], RepositoryPaths.Infra, Environment(environment));
        try
        {
            await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    /// <summary>The MCP Inspector CLI with <c>asyncmcp proxy</c> as its stdio server, configured by environment variables.</summary>
    public async Task<JsonNode> InspectStdioProxyAsync(Dictionary<string, string> proxyEnvironment, string home, params string[] arguments)
    {
        var environment = Environment();
        environment["HOME"] = home;

        // The Inspector starts its server with a minimal environment of its own: the settings go by -e.
        var serverEnvironment = Environment(proxyEnvironment)
            .Where(pair => pair.Value.Length > 0)
            .SelectMany(pair => new[] { "-e", $"{pair.Key}={pair.Value}" });
        string[] server = ["--transport", "stdio", "dotnet", Cli, "proxy"];
        await using var inspector = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", s_inspector, "--cli", .. serverEnvironment, .. arguments, .. server], RepositoryPaths.Infra, environment);
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        return JsonNode.Parse(inspector.Output[inspector.Output.IndexOf('{', StringComparison.Ordinal)..])!;
    }

    /// <summary>The MCP Inspector CLI against a Streamable HTTP endpoint; the JSON document it printed.</summary>
    public static async Task<JsonNode> InspectUrlAsync(string url, string home, params string[] arguments)
    {
        await using var inspector = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", s_inspector, "--cli", url, "--transport", "http", .. arguments], RepositoryPaths.Infra, new Dictionary<string, string> { ["HOME"] = home });
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        return JsonDocumentIn(inspector.Output);
    }

    /// <summary>The last line of the output that is a JSON document (the result of <c>call --json</c>).</summary>
    public static JsonNode LastJsonLine(string output) =>
        JsonNode.Parse(output.Split('\n').Last(l => l.TrimStart().StartsWith('{') || l.TrimStart().StartsWith('[')))!;

    /// <summary>The JSON document a command printed over several lines (provision's output).</summary>
    public static JsonNode JsonDocumentIn(string output) => JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!;

    /// <summary>Calls an SNS Query action on the emulator (which checks no signatures), for what the product's SNS client does not do.</summary>
    public async Task<XDocument> SnsAsync(string action, params (string Name, string Value)[] parameters)
    {
        using var http = new HttpClient();
        using var content = new FormUrlEncodedContent([new("Action", action), new("Version", "2010-03-31"), .. parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value))]);
        using var response = await http.PostAsync(new Uri(emulator.Emulator.ServiceUrl + "/"), content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"SNS {action} failed: {text}");
        return XDocument.Parse(text);
    }
}
