using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Clients that leave without closing their session must not lock new ones out: the MCP Inspector CLI exits without
/// <c>DELETE</c>, and through <c>asyncmcp proxy --listen</c> → SQS → <c>asyncmcp serve</c> each run used to keep a
/// session and a child process at serve for the 30-minute idle timeout, so that run 33 was refused. Every process is
/// started here and ended by its process id.
/// </summary>
public sealed class AbandonedSessionTests(BridgeEmulator emulator)
{
    [Fact]
    public async Task Inspector_runs_in_a_row_never_exhaust_the_session_limit_of_serve()
    {
        // A limit of 3 instead of the default 32, and 12 runs instead of 100: four times the limit, with no setting
        // of the proxy touched. Whichever comes first makes room: the proxy closing the session of an Inspector that
        // left (10 s after it dropped its GET stream), or serve closing the session idle longest when a new one finds
        // every place taken (at any pace; ServerBridgeTests drives that one exactly).
        const int limit = 3;
        const int runs = 12;
        var cli = new CliProcess(emulator);
        var requestQueue = await emulator.CreateQueueAsync("abandon-req");
        await using var serve = ChildProcess.Start("dotnet", [CliProcess.Cli, "serve", "--verbose", "--request-queue", requestQueue, "--max-sessions", limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "--", RepositoryPaths.Node, CliProcess.Everything], RepositoryPaths.Infra, cli.Environment());
        await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await using var proxy = await ConformanceTests.ProxyProcess.StartAsync(emulator, ["--verbose", "--request-queue", requestQueue, "--response-queue", await emulator.CreateQueueAsync("abandon-resp")]);
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            for (var run = 0; run < runs; run++)
            {
                var echo = await CliProcess.InspectUrlAsync(proxy.Url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", $"message=run {run}");
                Assert.Equal($"Echo: run {run}", (string?)echo["content"]![0]!["text"]);
            }

            Assert.DoesNotContain("was refused", serve.Output, StringComparison.Ordinal);
        }
        finally
        {
            home.Delete(recursive: true);
        }

        // And the proxy notices the Inspector has gone (it dropped its GET stream): its sessions close without waiting
        // for the idle timeout, and their sessions and children at serve with them.
        await proxy.Process.WaitForLineAsync(l => l.Contains("after its client dropped its GET stream", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
    }
}
