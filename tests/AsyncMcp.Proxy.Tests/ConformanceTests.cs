using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The official MCP conformance suite, both pinned versions (0.1.16 for revision 2025-11-25, 0.2.0-alpha.12 which adds
/// 2026-07-28), every server scenario, against the same C# fixture server (<see cref="ConformanceFixtures"/>): on the
/// SDK's own Streamable HTTP endpoint, the yardstick, and through <c>asyncmcp proxy --listen</c> with the fixture
/// behind SQS and behind SNS+SQS. Each run must pass exactly the checks recorded in <c>conformance/&lt;version&gt;.txt</c>.
/// </summary>
public sealed class ConformanceTests(BridgeEmulator emulator)
{
    [Theory]
    [InlineData("0.1.16")]
    [InlineData("0.2.0-alpha.12")]
    public async Task The_fixture_on_the_SDKs_own_endpoint_passes_the_recorded_checks(string version)
    {
        var suite = ConformanceSuite.Named(version);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");

        // Sessions for initialize clients, and 2026-07-28 served statelessly: both revisions on one endpoint.
        builder.Services.AddMcpServer(ConformanceFixtures.Configurer()).WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients);
        await using var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/mcp";
            suite.AssertPasses(await suite.RunAsync(url), throughProxy: false);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("0.1.16")]
    [InlineData("0.2.0-alpha.12")]
    public async Task The_fixture_behind_SQS_passes_the_recorded_checks_through_the_proxy(string version)
    {
        var suite = ConformanceSuite.Named(version);
        var requestQueue = await emulator.CreateQueueAsync("conf-req");
        var responseQueue = await emulator.CreateQueueAsync("conf-resp");
        await using var server = new SqsServerTransport(emulator.Sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueue }, ConformanceFixtures.Create());
        await server.StartAsync(TestContext.Current.CancellationToken);

        await using var proxy = await ProxyProcess.StartAsync(emulator, ["--request-queue", requestQueue, "--response-queue", responseQueue]);
        suite.AssertPasses(await suite.RunAsync(proxy.Url), throughProxy: true);
    }

    [Theory]
    [InlineData("0.1.16")]
    [InlineData("0.2.0-alpha.12")]
    public async Task The_fixture_behind_SNS_and_SQS_passes_the_recorded_checks_through_the_proxy(string version)
    {
        var suite = ConformanceSuite.Named(version);
        var provisioner = new SnsSqsProvisioner(emulator.Sqs, emulator.Sns);
        var serverTopic = await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("conf-st"), cancellationToken: TestContext.Current.CancellationToken);
        var serverQueue = await provisioner.EnsureSubscribedQueueAsync(serverTopic, FauxqsEmulator.UniqueName("conf-sq"), cancellationToken: TestContext.Current.CancellationToken);
        await using var server = new SnsSqsServerTransport(emulator.Sqs, emulator.Sns, new SnsSqsServerTransportOptions { ServerQueueUrl = serverQueue.Queue.QueueUrl }, ConformanceFixtures.Create());
        await server.StartAsync(TestContext.Current.CancellationToken);

        await using var proxy = await ProxyProcess.StartAsync(
            emulator,
            ["--transport", "sns-sqs", "--server-topic", serverTopic, "--client-topic", FauxqsEmulator.UniqueName("conf-ct"), "--client-queue", FauxqsEmulator.UniqueName("conf-cq")]);
        suite.AssertPasses(await suite.RunAsync(proxy.Url), throughProxy: true);
    }

    /// <summary><c>asyncmcp proxy --listen</c> on a free loopback port, ended (by its process id) when disposed.</summary>
    internal sealed class ProxyProcess : IAsyncDisposable
    {
        private ProxyProcess(ChildProcess process, string url)
        {
            Process = process;
            Url = url;
        }

        public ChildProcess Process { get; }

        /// <summary>The MCP endpoint, <c>http://127.0.0.1:port/mcp</c>.</summary>
        public string Url { get; }

        public static async Task<ProxyProcess> StartAsync(BridgeEmulator emulator, string[] options, Dictionary<string, string>? environment = null)
        {
            var process = ChildProcess.Start("dotnet", [CliProcess.Cli, "proxy", "--listen", "http://127.0.0.1:0", .. options], RepositoryPaths.Infra, new CliProcess(emulator).Environment(environment));
            try
            {
                var line = await process.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
                return new ProxyProcess(process, line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim());
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }

        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}
