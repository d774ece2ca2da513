using AsyncMcp.AspNetCore.Webhooks.Signing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The programs in <c>samples/</c> as a user runs them, so they never rot: each server started as its own process
/// (on the emulator, or on Kestrel on loopback), its client run against it to the end, the long-running tool's
/// progress and result printed.
/// </summary>
public sealed class SampleTests(BridgeEmulator emulator)
{
    private static readonly TimeSpan s_ready = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_clientRun = TimeSpan.FromSeconds(90);

    [Fact]
    public Task Sqs_server_and_client() => RunPairAsync("SqsServer", "SqsClient", [], Aws(new()
    {
        ["ASYNCMCP_REQUEST_QUEUE"] = FauxqsEmulator.UniqueName("sample-requests"),
        ["ASYNCMCP_RESPONSE_QUEUE"] = FauxqsEmulator.UniqueName("sample-responses"),
    }), (_, environment) => environment);

    [Fact]
    public Task SnsSqs_server_and_client() => RunPairAsync("SnsSqsServer", "SnsSqsClient", [], Aws(new()
    {
        ["ASYNCMCP_SERVER_TOPIC"] = FauxqsEmulator.UniqueName("sample-server"),
        ["ASYNCMCP_SERVER_QUEUE"] = FauxqsEmulator.UniqueName("sample-server-requests"),
        ["ASYNCMCP_CLIENT_NAME"] = FauxqsEmulator.UniqueName("sample-client-alice"),
    }), (_, environment) => environment);

    [Fact]
    public Task Webhook_server_and_client() => RunHttpPairAsync("WebhookServer", "WebhookClient", "Webhook");

    [Fact]
    public Task Hybrid_server_and_client() => RunHttpPairAsync("HybridServer", "HybridClient", "Hybrid");

    private static Task RunHttpPairAsync(string server, string client, string section)
    {
        var secret = WebhookSecret.Generate();

        // The secret through the configuration section the server binds, as a deployment would set it.
        return RunPairAsync(server, client, ["--urls", "http://127.0.0.1:0"], new() { [$"AsyncMcp__{section}__Security__Secret"] = secret }, (ready, _) => new()
        {
            ["ASYNCMCP_SERVER_URL"] = ready,
            ["ASYNCMCP_WEBHOOK_SECRET"] = secret,
        });
    }

    private static async Task RunPairAsync(
        string server,
        string client,
        string[] serverArguments,
        Dictionary<string, string> serverEnvironment,
        Func<string, Dictionary<string, string>, Dictionary<string, string>> clientEnvironment)
    {
        await using var serverProcess = Start(server, serverArguments, serverEnvironment);
        var ready = (await serverProcess.WaitForLineAsync(l => l.StartsWith("SERVER_READY ", StringComparison.Ordinal), s_ready))["SERVER_READY ".Length..];

        await using var clientProcess = Start(client, [], clientEnvironment(ready, serverEnvironment));
        var exit = await clientProcess.WaitForExitAsync(s_clientRun);
        var output = clientProcess.Output;
        Assert.True(exit == 0, $"{client} exited with {exit}:\n{output}\n{server}:\n{serverProcess.Output}");
        Assert.Contains("Connected to asyncmcp-sample-server", output, StringComparison.Ordinal);
        Assert.Contains("long_running_job", output, StringComparison.Ordinal);
        Assert.Contains("progress 5/5: finished step 5 of 5", output, StringComparison.Ordinal);
        Assert.Contains("Result: Job complete: 5 steps in 2000 ms.", output, StringComparison.Ordinal);

        await serverProcess.TerminateAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, await serverProcess.WaitForExitAsync(s_ready));
    }

    private Dictionary<string, string> Aws(Dictionary<string, string> environment)
    {
        // The AWS SDK's own settings: the samples take nothing else to reach the emulator.
        environment["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl;
        environment["AWS_REGION"] = FauxqsEmulator.Region;
        environment["AWS_ACCESS_KEY_ID"] = "test";
        environment["AWS_SECRET_ACCESS_KEY"] = "test";
        return environment;
    }

    private static ChildProcess Start(string sample, string[] arguments, Dictionary<string, string> environment)
    {
        // Built with the solution, in this test run's configuration; run from its output folder as `dotnet run` would.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var output = Path.Combine(RepositoryPaths.Root, "samples", sample, "bin", configuration, "net10.0");
        return ChildProcess.Start("dotnet", [Path.Combine(output, sample + ".dll"), .. arguments], output, environment);
    }
}
