using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>The command as a user gets it: packed from the repository, installed with <c>dotnet tool install</c>, and run.</summary>
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

    private static async Task<string> RunAsync(string program, string[] arguments, string workingDirectory, Dictionary<string, string>? environment = null)
    {
        await using var process = ChildProcess.Start(program, arguments, workingDirectory, environment ?? []);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {exit}: {process.Output}");
        return process.Output;
    }
}
