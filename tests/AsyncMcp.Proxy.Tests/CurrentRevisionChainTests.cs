using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Both protocol revisions through the whole command chain: a client → <c>asyncmcp proxy</c> (its Streamable HTTP
/// front, and its stdio front) → SQS on the emulator → <c>asyncmcp serve</c> → an ordinary MCP C# SDK server on stdio
/// (<c>AsyncMcp.TestServerHost --stdio</c>). The MCP Inspector CLI speaks only revision 2026-07-28 here
/// (<c>--protocol-era modern</c>); a C# client answers the server's sampling and elicitation, asked in both forms: the
/// tool awaiting the client (<c>SampleAsync</c>/<c>ElicitAsync</c>) and an <c>input_required</c> result
/// (<c>InputRequiredException</c>). Every process is started here and ended by its process id.
/// </summary>
public sealed class CurrentRevisionChainTests(BridgeEmulator emulator)
{
    // The same configuration and framework folder as this test's own build output.
    private static readonly string s_testServer = Path.Combine(
        AppContext.BaseDirectory.Replace($"{Path.DirectorySeparatorChar}AsyncMcp.Proxy.Tests{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}AsyncMcp.TestServerHost{Path.DirectorySeparatorChar}", StringComparison.Ordinal),
        "AsyncMcp.TestServerHost.dll");
    private static readonly string s_inspector = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task The_inspector_speaking_only_2026_07_28_reaches_a_csharp_server_through_the_HTTP_front_SQS_and_serve()
    {
        var requestQueue = await emulator.CreateQueueAsync("cur-req");
        await using var serve = await StartServeAsync(["--request-queue", requestQueue]);
        await using var proxy = await ConformanceTests.ProxyProcess.StartAsync(emulator, ["--verbose", "--request-queue", requestQueue, "--response-queue", await emulator.CreateQueueAsync("cur-resp")]);
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            var list = await InspectAsync(proxy.Url, home.FullName, "--method", "tools/list");
            Assert.Contains(list["tools"]!.AsArray(), t => (string?)t!["name"] == "echo");

            var echo = await InspectAsync(proxy.Url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=modern");
            Assert.Equal("Echo: modern", (string?)echo["content"]![0]!["text"]);

            // Both runs were session-less: the proxy opened no HTTP session, only the back connection those requests share.
            Assert.Contains("Opened the shared back connection for requests of protocol revision 2026-07-28.", proxy.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("HTTP session", proxy.Process.Output, StringComparison.Ordinal);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task A_csharp_client_answers_sampling_and_elicitation_in_both_forms_through_the_HTTP_front(string protocolVersion)
    {
        var requestQueue = await emulator.CreateQueueAsync("cur-req");
        await using var serve = await StartServeAsync(["--request-queue", requestQueue]);
        await using var proxy = await ConformanceTests.ProxyProcess.StartAsync(emulator, ["--request-queue", requestQueue, "--response-queue", await emulator.CreateQueueAsync("cur-resp")]);

        // No GET stream: what the server asks arrives on the stream of the call that caused it.
        var transport = new HttpClientTransport(new() { Endpoint = new Uri(proxy.Url), TransportMode = HttpTransportMode.StreamableHttp, EnableStandaloneGetStream = false });
        await using var client = await McpClient.CreateAsync(transport, AnsweringClient(protocolVersion), cancellationToken: TestContext.Current.CancellationToken);
        await AssertInputRequiredAsync(client, protocolVersion);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task A_csharp_client_answers_sampling_and_elicitation_in_both_forms_through_the_stdio_front(string protocolVersion)
    {
        var requestQueue = await emulator.CreateQueueAsync("cur-req");
        await using var serve = await StartServeAsync(["--request-queue", requestQueue]);
        var transport = new StdioClientTransport(new()
        {
            Command = "dotnet",
            Arguments = [CliProcess.Cli, "proxy", "--request-queue", requestQueue, "--response-queue", await emulator.CreateQueueAsync("cur-resp")],
            EnvironmentVariables = _cli.Environment().ToDictionary(p => p.Key, p => (string?)p.Value),
            WorkingDirectory = RepositoryPaths.Infra,
        });
        await using var client = await McpClient.CreateAsync(transport, AnsweringClient(protocolVersion), cancellationToken: TestContext.Current.CancellationToken);
        await AssertInputRequiredAsync(client, protocolVersion);
    }

    private static McpClientOptions AnsweringClient(string protocolVersion) => new()
    {
        ProtocolVersion = protocolVersion,

        // The first request starts the proxy (stdio front) and serve's child, both .NET processes: on a loaded machine
        // that can outlast the SDK's 5 s server/discover probe, after which a client pinned to 2026-07-28 gives up.
        DiscoverProbeTimeout = TimeSpan.FromSeconds(60),
        Handlers = new()
        {
            SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
            {
                Model = "test-model",
                Role = Role.Assistant,
                Content = [new TextContentBlock { Text = "sampled " + string.Join(" ", request!.Messages.SelectMany(m => m.Content).OfType<TextContentBlock>().Select(c => c.Text)) }],
            }),
            ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
        },
    };

    private static async Task AssertInputRequiredAsync(McpClient client, string protocolVersion)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var prompt = new Dictionary<string, object?> { ["prompt"] = "ping" };
        Assert.Equal("model test-model said: sampled ping", Text(await client.CallToolAsync("sample", prompt, cancellationToken: timeout.Token)));
        Assert.Equal("hello Ada", Text(await client.CallToolAsync("elicit", cancellationToken: timeout.Token)));
        Assert.Equal("model test-model said: sampled ping", Text(await client.CallToolAsync("sample_explicit", prompt, cancellationToken: timeout.Token)));
        Assert.Equal("hello Ada", Text(await client.CallToolAsync("elicit_explicit", cancellationToken: timeout.Token)));
        Assert.Equal(protocolVersion, client.NegotiatedProtocolVersion);
    }

    private static string Text(CallToolResult result) =>
        result.IsError == true ? $"(error) {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}" : ((TextContentBlock)result.Content[0]).Text;

    private async Task<ChildProcess> StartServeAsync(string[] options)
    {
        var serve = ChildProcess.Start("dotnet", [CliProcess.Cli, "serve", .. options, "--", "dotnet", s_testServer, "--stdio"], RepositoryPaths.Infra, _cli.Environment());
        try
        {
            await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    private static async Task<JsonNode> InspectAsync(string url, string home, params string[] arguments)
    {
        await using var inspector = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", s_inspector, "--cli", url, "--transport", "http", "--protocol-era", "modern", "--format", "json", .. arguments],
            RepositoryPaths.Infra,
            new Dictionary<string, string> { ["HOME"] = home });
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        return JsonNode.Parse(inspector.Output[inspector.Output.IndexOf('{', StringComparison.Ordinal)..])!["result"]!;
    }
}
