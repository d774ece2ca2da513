using System.Text.RegularExpressions;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The official MCP conformance suite (<c>@modelcontextprotocol/conformance</c>, every server scenario) against the
/// proxy's Streamable HTTP front (<c>asyncmcp proxy --listen</c>), backed over SQS by a C# server with the suite's
/// fixtures.
/// </summary>
public sealed partial class ConformanceTests(BridgeEmulator emulator)
{
    [Fact]
    public async Task Every_server_scenario_passes_through_the_proxy_over_SQS()
    {
        var requestQueue = await emulator.CreateQueueAsync("conf-req");
        var responseQueue = await emulator.CreateQueueAsync("conf-resp");
        await using var server = new SqsServerTransport(emulator.Sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue }, ConformanceFixtures.Create());
        await server.StartAsync(TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
        };
        await using var proxy = ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "asyncmcp.dll"), "proxy", "--listen", "http://127.0.0.1:0", "--request-queue", requestQueue, "--response-queue", responseQueue], RepositoryPaths.Infra, environment);
        var line = await proxy.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();
        var home = Directory.CreateTempSubdirectory("asyncmcp-conformance-");
        try
        {
            await using var suite = ChildProcess.Start(
                RepositoryPaths.Node,
                ["--no-warnings", Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"), "server", "--url", url],
                RepositoryPaths.Infra,
                new Dictionary<string, string> { ["HOME"] = home.FullName, ["NODE_OPTIONS"] = $"--import {Path.Combine(RepositoryPaths.Infra, "loopback-preload.mjs")}" });
            await suite.WaitForExitAsync(TimeSpan.FromMinutes(10));
            var output = Ansi().Replace(suite.Output, string.Empty);
            var total = Total().Match(output);
            Assert.True(total.Success, output);
            var failures = output.Split('\n').Where(l => l.TrimStart().StartsWith('✗')).ToList();
            Assert.True(failures.Count == 0, $"Failed scenarios:\n{string.Join('\n', failures)}\n\n{output}");
            Assert.Equal("0", total.Groups["failed"].Value);
            Assert.True(int.Parse(total.Groups["passed"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 40, output);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"Total: (?<passed>\d+) passed, (?<failed>\d+) failed")]
    private static partial Regex Total();
}
