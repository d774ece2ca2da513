using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The packages as a user gets them: the command packed from the repository, installed with <c>dotnet tool install</c>,
/// and run; every package with the metadata a package feed shows (readme, license, URLs, tags, version, symbols).
/// </summary>
public sealed class CliPackagingTests(BridgeEmulator emulator)
{
    [Fact]
    public async Task The_tool_packs_installs_with_dotnet_tool_install_and_runs()
    {
        var work = Directory.CreateTempSubdirectory("asyncmcp-tool-");
        try
        {
            var packages = Path.Combine(work.FullName, "packages");
            var tools = Path.Combine(work.FullName, "tools");
            var project = Path.Combine(RepositoryPaths.Root, "src", "AsyncMcp.Cli", "AsyncMcp.Cli.csproj");

            // The test run has built the solution in Release already; packing those outputs is what a user's pack does.
            // A version of its own, and a package folder of its own, so that no earlier run's package is installed instead.
            var version = "0.0.0-test." + Guid.NewGuid().ToString("N")[..12];
            await RunAsync("dotnet", ["pack", project, "-c", "Release", "--no-build", "-o", packages, $"-p:PackageVersion={version}"], work.FullName);
            Assert.Single(Directory.GetFiles(packages, $"AsyncMcp.Cli.{version}.nupkg"));
            await RunAsync("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", packages, "--version", version, "AsyncMcp.Cli"], work.FullName, new() { ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "nuget") });

            var asyncmcp = Path.Combine(tools, "asyncmcp");
            var help = await RunAsync(asyncmcp, ["--help"], work.FullName);
            Assert.Contains("provision", help, StringComparison.Ordinal);

            // And it does real work: provisioning a queue on the emulator.
            var name = FauxqsEmulator.UniqueName("tool-q");
            var output = await RunAsync(asyncmcp, ["provision", "--request-queue", name, "--max-receive-count", "0"], work.FullName, new()
            {
                ["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl,
                ["AWS_REGION"] = FauxqsEmulator.Region,
                ["AWS_ACCESS_KEY_ID"] = "test",
                ["AWS_SECRET_ACCESS_KEY"] = "test",
            });
            var queues = JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!["queues"]!;
            Assert.NotNull((string?)queues[name]!["url"]);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Every_package_carries_readme_license_urls_tags_one_version_and_symbols()
    {
        var work = Directory.CreateTempSubdirectory("asyncmcp-pack-");
        try
        {
            var props = XDocument.Load(Path.Combine(RepositoryPaths.Root, "Directory.Build.props"));
            var prefix = props.Descendants("VersionPrefix").Single().Value;
            Assert.Matches(@"^\d+\.\d+\.\d+$", prefix);
            Assert.Contains("Apache License", await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "LICENSE"), TestContext.Current.CancellationToken), StringComparison.Ordinal);

            // A prerelease is the one version prefix with a suffix; the packages reference each other at that version.
            var version = prefix + "-preview.test";
            string[] packages = ["AsyncMcp.Core", "AsyncMcp.Aws", "AsyncMcp.AspNetCore", "AsyncMcp.Proxy", "AsyncMcp.Cli"];
            foreach (var package in packages)
            {
                var project = Path.Combine(RepositoryPaths.Root, "src", package, package + ".csproj");
                await RunAsync("dotnet", ["pack", project, "-c", "Release", "--no-build", "-o", work.FullName, "-p:VersionSuffix=preview.test"], work.FullName);
            }

            foreach (var package in packages)
            {
                Assert.True(File.Exists(Path.Combine(work.FullName, $"{package}.{version}.snupkg")), $"{package} has no symbol package");
                using var zip = ZipFile.OpenRead(Path.Combine(work.FullName, $"{package}.{version}.nupkg"));
                Assert.NotNull(zip.GetEntry("README.md"));
                Assert.NotNull(zip.GetEntry("LICENSE"));
                using var nuspecStream = zip.GetEntry($"{package}.nuspec")!.Open();
                var nuspec = XDocument.Load(nuspecStream).Root!;
                var ns = nuspec.Name.Namespace;
                var metadata = nuspec.Element(ns + "metadata")!;
                string? Get(string name) => metadata.Element(ns + name)?.Value;

                Assert.Equal(version, Get("version"));
                Assert.Equal("Apache-2.0", Get("license"));
                Assert.Equal("README.md", Get("readme"));
                Assert.False(string.IsNullOrWhiteSpace(Get("description")), $"{package} has no description");
                Assert.StartsWith("https://", Get("projectUrl"), StringComparison.Ordinal);
                Assert.StartsWith("https://", metadata.Element(ns + "repository")?.Attribute("url")?.Value, StringComparison.Ordinal);
                Assert.Contains("mcp", Get("tags")!.Split(' '));

                // Dependencies as README and docs/architecture.md state them: of the libraries, only the HTTP ones need ASP.NET Core.
                if (package != "AsyncMcp.Cli")
                {
                    var aspNetCore = metadata.Descendants(ns + "frameworkReference").Any(f => (string?)f.Attribute("name") == "Microsoft.AspNetCore.App");
                    Assert.True(aspNetCore == package is "AsyncMcp.AspNetCore" or "AsyncMcp.Proxy", $"{package}: ASP.NET Core framework reference {aspNetCore}");
                }

                foreach (var dependency in metadata.Descendants(ns + "dependency").Where(d => ((string)d.Attribute("id")!).StartsWith("AsyncMcp.", StringComparison.Ordinal)))
                {
                    Assert.Equal(version, (string?)dependency.Attribute("version"));
                }
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<string> RunAsync(string program, string[] arguments, string workingDirectory, Dictionary<string, string>? environment = null)
    {
        await using var process = ChildProcess.Start(program, arguments, workingDirectory, environment ?? []);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {exit}: {process.Output}");
        return process.Output;
    }
}
