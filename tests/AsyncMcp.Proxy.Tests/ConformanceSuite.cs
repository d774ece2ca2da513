using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// A pinned version of the official conformance suite (<c>@modelcontextprotocol/conformance</c> from infra/package.json),
/// run against a server URL; its result is every check of every scenario, read from the files the suite writes.
/// </summary>
internal sealed partial class ConformanceSuite
{
    /// <summary>0.1.16, the suite of protocol revision 2025-11-25: its active server scenarios.</summary>
    public static readonly ConformanceSuite Legacy = new("0.1.16", Path.Combine("@modelcontextprotocol", "conformance"), ["--suite", "active"]);

    /// <summary>0.2.0-alpha.12 (npm alias <c>conformance-next</c>), which adds revision 2026-07-28: every server scenario.</summary>
    public static readonly ConformanceSuite Next = new("0.2.0-alpha.12", "conformance-next", ["--suite", "all"]);

    private ConformanceSuite(string version, string package, string[] arguments)
    {
        Version = version;
        Package = package;
        Arguments = arguments;
    }

    public string Version { get; }

    public string Package { get; }

    public string[] Arguments { get; }

    public static ConformanceSuite Named(string version) => version == Legacy.Version ? Legacy : version == Next.Version ? Next : throw new ArgumentException(version);

    /// <summary>Runs every server scenario against <paramref name="url"/>; the checks, one line each (<c>scenario/check-id/Name STATUS</c>).</summary>
    public Task<IReadOnlyList<string>> RunAsync(string url) => RunAsync(url, Arguments);

    /// <summary>Runs the named scenarios against <paramref name="url"/>, one after the other; the checks as <see cref="RunAsync(string)"/> gives them.</summary>
    public async Task<IReadOnlyList<string>> RunScenariosAsync(string url, IEnumerable<string> scenarios)
    {
        var checks = new List<string>();
        foreach (var scenario in scenarios)
        {
            checks.AddRange(await RunAsync(url, ["--scenario", scenario]));
        }

        checks.Sort(StringComparer.Ordinal);
        return checks;
    }

    private async Task<IReadOnlyList<string>> RunAsync(string url, string[] arguments)
    {
        var work = Directory.CreateTempSubdirectory("asyncmcp-conformance-");
        try
        {
            var results = Path.Combine(work.FullName, "results");
            await using var suite = ChildProcess.Start(
                RepositoryPaths.Node,
                ["--no-warnings", Path.Combine(RepositoryPaths.Infra, "node_modules", Package, "dist", "index.js"), "server", "--url", url, "--output-dir", results, .. arguments],
                RepositoryPaths.Infra,
                new Dictionary<string, string> { ["HOME"] = work.FullName, ["NODE_OPTIONS"] = $"--import {Path.Combine(RepositoryPaths.Infra, "loopback-preload.mjs")}" });
            await suite.WaitForExitAsync(TimeSpan.FromMinutes(10));
            var checks = new List<string>();
            foreach (var file in Directory.EnumerateFiles(results, "checks.json", SearchOption.AllDirectories))
            {
                var scenario = ScenarioFolder().Match(Path.GetFileName(Path.GetDirectoryName(file)!)).Groups["scenario"].Value;
                foreach (var check in JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsArray())
                {
                    // Why a check did not pass follows " -- ", for the reader of a failed test.
                    var status = (string?)check!["status"];
                    var why = status == "SUCCESS" || check["errorMessage"] is not { } message ? "" : " -- " + Shorten((string?)message);
                    checks.Add($"{scenario}/{check["id"]}/{check["name"]} {status}{why}");
                }
            }

            Assert.True(checks.Count > 0, $"The conformance suite {Version} ({string.Join(' ', arguments)}) reported no checks:\n{suite.Output}");
            checks.Sort(StringComparer.Ordinal);
            return checks;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 300 ? text.ReplaceLineEndings(" ") : text[..300].ReplaceLineEndings(" ") + "…";

    /// <summary>
    /// The checks recorded as passing, from <c>conformance/&lt;version&gt;.txt</c>: every line names one passing check
    /// (a check that passes more than once is named as often); a line starting with <c>+</c> passes through the proxy only,
    /// one starting with <c>-</c> on the SDK's own endpoint only, with the reason after <c>#</c>.
    /// </summary>
    public IReadOnlyList<string> RecordedPasses(bool throughProxy)
    {
        var passes = new List<string>();
        foreach (var raw in File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "conformance", $"{Version}.txt")))
        {
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var marker = line[0];
            if (marker is '+' or '-')
            {
                if ((marker == '+') == throughProxy)
                {
                    passes.Add(line[1..].Trim());
                }
            }
            else
            {
                passes.Add(line);
            }
        }

        passes.Sort(StringComparer.Ordinal);
        return passes;
    }

    /// <summary>Asserts that exactly the recorded checks passed (a check that newly fails, or newly passes, fails the test).</summary>
    public void AssertPasses(IReadOnlyList<string> checks, bool throughProxy)
    {
        var passed = checks.Where(c => c.EndsWith(" SUCCESS", StringComparison.Ordinal)).Select(c => c[..^" SUCCESS".Length]).ToList();
        var expected = RecordedPasses(throughProxy);
        var lost = expected.ToList();
        var gained = new List<string>();
        foreach (var check in passed)
        {
            if (!lost.Remove(check))
            {
                gained.Add(check);
            }
        }

        Assert.True(
            lost.Count == 0 && gained.Count == 0,
            $"Conformance {Version} ({(throughProxy ? "through the proxy" : "on the SDK's endpoint")}): {passed.Count} checks passed, {expected.Count} recorded.\n" +
            $"No longer passing:\n  {string.Join("\n  ", lost)}\nNewly passing:\n  {string.Join("\n  ", gained)}\nAll checks:\n  {string.Join("\n  ", checks)}");
    }

    // Each scenario's results are in "server-<scenario>-<timestamp>".
    [GeneratedRegex(@"^server-(?<scenario>.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$")]
    private static partial Regex ScenarioFolder();
}
