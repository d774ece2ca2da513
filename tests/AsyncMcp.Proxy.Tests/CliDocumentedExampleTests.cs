using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The MCP Inspector examples of <c>docs/cli.md</c>, read from the page and run as written: the Inspector CLI (from
/// <c>infra/node_modules</c> rather than <c>npx</c>'s download) starts <c>asyncmcp proxy</c> (found on <c>PATH</c>) with
/// its own minimal environment, against the emulator and an <c>asyncmcp serve</c> of server-everything. Only the names
/// change: the emulator's endpoint for the page's, and queue and topic names of this run for the page's.
/// </summary>
public sealed partial class CliDocumentedExampleTests(BridgeEmulator emulator) : IDisposable
{
    private const string PageEndpoint = "http://127.0.0.1:4566";
    private static readonly string s_launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
    private readonly CliProcess _cli = new(emulator);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("asyncmcp-example-");

    [Fact]
    public async Task The_sqs_example_lists_the_tools_as_written()
    {
        var example = Examples().Single(e => e.Contains("-e ASYNCMCP_REQUEST_QUEUE=", StringComparison.Ordinal));
        var names = new Dictionary<string, string>
        {
            ["mcp-requests"] = FauxqsEmulator.UniqueName("doc-req"),
            ["inspector-responses"] = FauxqsEmulator.UniqueName("doc-resp"),
        };
        await using var serve = await _cli.StartServeAsync(["--request-queue", names["mcp-requests"]]);

        var tools = await InspectAsync(example, names);

        Assert.Contains(tools["tools"]!.AsArray(), t => (string?)t!["name"] == "echo");
    }

    [Fact]
    public async Task The_sns_sqs_example_lists_the_tools_as_written()
    {
        var example = Examples().Single(e => e.Contains("-e ASYNCMCP_TRANSPORT=sns-sqs", StringComparison.Ordinal));
        var names = new Dictionary<string, string>
        {
            ["mcp-server"] = FauxqsEmulator.UniqueName("doc-server"),
            ["mcp-client-inspector"] = FauxqsEmulator.UniqueName("doc-client"),
        };
        await using var serve = await _cli.StartServeAsync(["--transport", "sns-sqs", "--server-topic", names["mcp-server"], "--server-queue", FauxqsEmulator.UniqueName("doc-server-q")]);

        var tools = await InspectAsync(example, names);

        Assert.Contains(tools["tools"]!.AsArray(), t => (string?)t!["name"] == "echo");
    }

    [Fact]
    public async Task Without_the_credentials_the_proxy_says_so_in_one_line()
    {
        var example = Examples().Single(e => e.Contains("-e ASYNCMCP_REQUEST_QUEUE=", StringComparison.Ordinal));
        var withoutCredentials = CredentialSetting().Replace(example, string.Empty);
        var names = new Dictionary<string, string>
        {
            ["mcp-requests"] = FauxqsEmulator.UniqueName("doc-req"),
            ["inspector-responses"] = FauxqsEmulator.UniqueName("doc-resp"),
        };

        var (exit, output) = await RunInspectorAsync(withoutCredentials, names);

        Assert.NotEqual(0, exit);
        Assert.Single(CliProcess.Lines(output), l => l.StartsWith("asyncmcp: ", StringComparison.Ordinal));
        Assert.Contains("asyncmcp: no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>The Inspector command lines of the page's stdio-front example, continuation lines joined.</summary>
    private static List<string> Examples()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "cli.md"));
        var examples = InspectorCommand().Matches(page).Select(m => Regex.Replace(m.Value, @"\\\r?\n\s*", " ").Trim()).ToList();
        Assert.True(examples.Count >= 2, "docs/cli.md no longer has the Inspector examples this test runs");
        return examples;
    }

    private async Task<JsonNode> InspectAsync(string example, Dictionary<string, string> names)
    {
        var (exit, output) = await RunInspectorAsync(example, names);
        Assert.True(exit == 0, $"the documented example exited with {exit}: {output}");
        return JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!;
    }

    /// <summary>Runs a page example: npx's package becomes the installed launcher, every other word stays, bar the names.</summary>
    private async Task<(int Exit, string Output)> RunInspectorAsync(string example, Dictionary<string, string> names)
    {
        var words = example.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["npx", "@modelcontextprotocol/inspector"], words[..2]);
        var arguments = words[2..].Select(word => Rename(word, names)).ToList();

        // "asyncmcp" as an installed tool would be: a command on PATH (the Inspector passes PATH on).
        var bin = _directory.CreateSubdirectory("bin");
        var tool = Path.Combine(bin.FullName, "asyncmcp");
        await File.WriteAllTextAsync(tool, $"#!/bin/sh\nexec '{Dotnet()}' '{CliProcess.Cli}' \"$@\"\n", TestContext.Current.CancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var home = _directory.CreateSubdirectory("home");
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = home.FullName,
            ["PATH"] = bin.FullName + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        };

        await using var inspector = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", s_launcher, .. arguments], RepositoryPaths.Infra, environment);
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        return (exit, inspector.Output);
    }

    private string Rename(string word, Dictionary<string, string> names)
    {
        var equals = word.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0)
        {
            return word;
        }

        var value = word[(equals + 1)..];
        value = value == PageEndpoint ? emulator.Emulator.ServiceUrl : names.GetValueOrDefault(value, value);
        return word[..(equals + 1)] + value;
    }

    private static string Dotnet() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "dotnet"))
            .First(File.Exists);

    [GeneratedRegex(@"^npx @modelcontextprotocol/inspector --cli (?:.*\\\r?\n)*.*$", RegexOptions.Multiline)]
    private static partial Regex InspectorCommand();

    [GeneratedRegex(@" -e AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)=\S+")]
    private static partial Regex CredentialSetting();
}
