using System.Diagnostics;
using AsyncMcp.Testing;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// Runs a client process again and again, as users do with settings in a config file: <c>asyncmcp call</c>, or the MCP
/// Inspector CLI through <c>asyncmcp proxy</c> (stdio), each run a new process, on one response queue for every run
/// and, alternating with those, on a new queue each time; the wall time of each run, process start to exit.
/// </summary>
internal static class RestartBench
{
    private static readonly string s_cli = Path.Combine(AppContext.BaseDirectory, "asyncmcp.dll");
    private static readonly string s_launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

    public sealed record Series(List<double> Seconds, int Failures);

    /// <summary><c>asyncmcp call --tool echo</c> <paramref name="runs"/> times on one response queue and as often on new ones.</summary>
    public static Task<(Series Fresh, Series Same)> CallAsync(FauxqsEmulator emulator, string requestQueueUrl, string[] flags, int runs) =>
        AlternateAsync(runs, "restart-call", responseQueue => RunAsync(
            "dotnet",
            [s_cli, "call", "--request-queue", requestQueueUrl, "--response-queue", responseQueue, .. flags, "--tool", "echo", "--arg", "message=again", "--json"],
            Environment(emulator)));

    /// <summary>The Inspector CLI calling <c>echo</c> through <c>asyncmcp proxy</c> (stdio), as <see cref="CallAsync"/>.</summary>
    public static Task<(Series Fresh, Series Same)> InspectorAsync(FauxqsEmulator emulator, string requestQueueUrl, int runs, string home) =>
        AlternateAsync(runs, "restart-inspector", responseQueue =>
        {
            var proxyEnvironment = new Dictionary<string, string>(Environment(emulator))
            {
                ["ASYNCMCP_REQUEST_QUEUE"] = requestQueueUrl,
                ["ASYNCMCP_RESPONSE_QUEUE"] = responseQueue,
            }.SelectMany(pair => new[] { "-e", $"{pair.Key}={pair.Value}" });
            return RunAsync(
                RepositoryPaths.Node,
                ["--no-warnings", s_launcher, "--cli", .. proxyEnvironment, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=again", "--transport", "stdio", "dotnet", s_cli, "proxy"],
                new Dictionary<string, string> { ["HOME"] = home });
        });

    // A run on a new queue, then one on the shared queue, and so on: the machine's load drifts, and each pair sees the same.
    // The shared queue's runs are still one after another on that queue; nothing else touches it in between.
    private static async Task<(Series Fresh, Series Same)> AlternateAsync(int runs, string prefix, Func<string, Task<bool>> run)
    {
        var fresh = new Series([], 0);
        var same = new Series([], 0);
        var queue = FauxqsEmulator.UniqueName(prefix);
        for (var i = 0; i < runs; i++)
        {
            fresh = await TimeAsync(fresh, () => run(FauxqsEmulator.UniqueName(prefix))).ConfigureAwait(false);
            same = await TimeAsync(same, () => run(queue)).ConfigureAwait(false);
        }

        return (fresh, same);
    }

    private static async Task<Series> TimeAsync(Series series, Func<Task<bool>> run)
    {
        var stopwatch = Stopwatch.StartNew();
        var ok = await run().ConfigureAwait(false);
        series.Seconds.Add(stopwatch.Elapsed.TotalSeconds);
        return series with { Failures = series.Failures + (ok ? 0 : 1) };
    }

    private static async Task<bool> RunAsync(string fileName, string[] arguments, IDictionary<string, string> environment)
    {
        await using var process = ChildProcess.Start(fileName, arguments, RepositoryPaths.Infra, environment);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        return exit == 0 && process.Output.Contains("Echo: again", StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Environment(FauxqsEmulator emulator) => new()
    {
        ["AWS_ENDPOINT_URL"] = emulator.ServiceUrl,
        ["AWS_REGION"] = FauxqsEmulator.Region,
        ["AWS_ACCESS_KEY_ID"] = "test",
        ["AWS_SECRET_ACCESS_KEY"] = "test",
    };
}
