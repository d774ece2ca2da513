using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// The MCP Inspector's own load test (<c>--load</c>) against server-everything, directly over Streamable HTTP and
/// through the full chain: Inspector → <c>asyncmcp proxy --listen</c> → SQS (emulator) → <c>asyncmcp serve</c> →
/// server-everything over stdio. Every process is started here and ended by its process id.
/// </summary>
internal static class ProxyChainBench
{
    private static readonly string s_cli = Path.Combine(AppContext.BaseDirectory, "asyncmcp.dll");
    private static readonly string s_everything = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
    private static readonly string s_launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

    public static async Task<JsonNode> DirectAsync(int requests, int concurrency, string home)
    {
        var port = FreePort();
        await using var everything = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--import", Path.Combine(RepositoryPaths.Infra, "loopback-preload.mjs"), s_everything, "streamableHttp"],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await everything.WaitForLineAsync(l => l.Contains("listening on port", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return await LoadAsync($"http://127.0.0.1:{port}/mcp", requests, concurrency, home);
    }

    public static async Task<JsonNode> ChainAsync(FauxqsEmulator emulator, string requestQueue, string responseQueue, int requests, int concurrency, string home)
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = emulator.ServiceUrl,
            ["AWS_REGION"] = FauxqsEmulator.Region,
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
        };
        await using var serve = ChildProcess.Start("dotnet", [s_cli, "serve", "--request-queue", requestQueue, "--", RepositoryPaths.Node, s_everything], RepositoryPaths.Infra, environment);
        await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await using var proxy = ChildProcess.Start("dotnet", [s_cli, "proxy", "--listen", "http://127.0.0.1:0", "--request-queue", requestQueue, "--response-queue", responseQueue], RepositoryPaths.Infra, environment);
        var line = await proxy.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return await LoadAsync(line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim(), requests, concurrency, home);
    }

    private static async Task<JsonNode> LoadAsync(string url, int requests, int concurrency, string home)
    {
        // A warm-up run first (process start-up, JIT, the first session), then the measured one.
        await RunInspectorAsync(url, Math.Max(16, requests / 10), concurrency, home);
        return await RunInspectorAsync(url, requests, concurrency, home);
    }

    private static async Task<JsonNode> RunInspectorAsync(string url, int requests, int concurrency, string home)
    {
        await using var inspector = ChildProcess.Start(
            RepositoryPaths.Node,
            [
                "--no-warnings", s_launcher, "--cli", url, "--transport", "http", "--method", "tools/call", "--tool-name", "get-sum",
                "--tool-arg", "a=2", "b=3", "--load", "--load-requests", requests.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--load-concurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["HOME"] = home });
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromMinutes(10));
        var output = inspector.Output;
        if (exit != 0)
        {
            throw new InvalidOperationException($"The inspector's load run failed ({exit}): {output}");
        }

        return JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
