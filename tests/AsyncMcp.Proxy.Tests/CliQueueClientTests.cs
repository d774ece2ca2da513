using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <c>asyncmcp call</c> and <c>asyncmcp proxy</c> as users run them: against asyncmcp's Python servers (the wire-level
/// fake, releases 0.2.1 and main, over SQS and SNS+SQS) with default settings and with <c>--initialize-only</c> given as a
/// flag, an environment variable or a config key; and again and again on one response queue, as a config file makes
/// people do. Every process is started here and ended by its process id.
/// </summary>
public sealed class CliQueueClientTests(BridgeEmulator emulator) : IDisposable
{
    private static readonly TimeSpan s_oneRun = TimeSpan.FromSeconds(20);
    private readonly CliProcess _cli = new(emulator);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("asyncmcp-cli-queues-");

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("main", "sqs", "")]
    [InlineData("0.2.1", "sqs", "")]
    [InlineData("main", "sns-sqs", "")]
    [InlineData("0.2.1", "sns-sqs", "--initialize-only")]
    [InlineData("main", "sns-sqs", "--protocol-version 2025-11-25")]
    [InlineData("0.2.1", "sqs", "ASYNCMCP_INITIALIZE_ONLY=true")]
    [InlineData("main", "sqs", "config initializeOnly")]
    public async Task Call_reaches_an_asyncmcp_python_server_and_lists_and_calls_its_tools_with_progress(string release, string transport, string setting)
    {
        var flags = setting.StartsWith("--", StringComparison.Ordinal) ? setting.Split(' ') : [];
        var environment = setting.StartsWith("ASYNCMCP_", StringComparison.Ordinal) ? new Dictionary<string, string> { [setting.Split('=')[0]] = setting.Split('=')[1] } : [];
        if (setting.StartsWith("config", StringComparison.Ordinal))
        {
            var config = Path.Combine(_directory.FullName, "asyncmcp.json");
            await File.WriteAllTextAsync(config, new JsonObject { ["initializeOnly"] = true }.ToJsonString(), Timeout);
            flags = ["--config", config];
        }

        string[] target;
        AsyncmcpServerFake fake;
        Func<Task> sendSentinel;
        using var sns = new SnsQueryClient(new SnsQueryClientOptions { ServiceUrl = emulator.Emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials });
        if (transport == "sqs")
        {
            var requestQueueUrl = await emulator.CreateQueueAsync("py-cli-req");
            fake = await AsyncmcpServerFake.StartAsync(emulator.Emulator.ServiceUrl, release, transport, requestQueueUrl);
            target = ["--request-queue", requestQueueUrl, "--response-queue", FauxqsEmulator.UniqueName("py-cli-resp")];
            sendSentinel = () => emulator.Sqs.SendMessageAsync(requestQueueUrl, Sentinel, Timeout);
        }
        else
        {
            var provisioner = new SnsSqsProvisioner(emulator.Sqs, sns);
            var serverTopic = await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("py-cli-st"), Timeout);
            var serverQueue = await provisioner.EnsureSubscribedQueueAsync(serverTopic, FauxqsEmulator.UniqueName("py-cli-sq"), cancellationToken: Timeout);
            fake = await AsyncmcpServerFake.StartAsync(emulator.Emulator.ServiceUrl, release, transport, serverQueue.Queue.QueueUrl);
            target = ["--transport", "sns-sqs", "--server-topic", serverTopic, "--client-topic", FauxqsEmulator.UniqueName("py-cli-ct"), "--client-queue", FauxqsEmulator.UniqueName("py-cli-cq")];
            sendSentinel = () => sns.PublishAsync(new SnsPublishRequest(serverTopic, Sentinel), Timeout);
        }

        await using (fake)
        {
            var (listExit, listOutput) = await _cli.RunAsync(["call", .. target, .. flags, "--json"], environment);
            Assert.True(listExit == 0, listOutput + fake.Output);
            Assert.Equal(["count", "echo"], CliProcess.LastJsonLine(listOutput).AsArray().Select(t => (string?)t!["name"]).Order());

            var (callExit, callOutput) = await _cli.RunAsync(["call", .. target, .. flags, "--tool", "count", "--arg", "steps=3"], environment);
            Assert.True(callExit == 0, callOutput + fake.Output);
            Assert.Contains("counted to 3", callOutput, StringComparison.Ordinal);

            // Nothing to warn about: not the probe answered on the server's behalf, not a reply.
            Assert.DoesNotContain("warn:", callOutput + listOutput, StringComparison.Ordinal);

            await sendSentinel();
            await fake.WaitForReceivedAsync(m => (string?)m["method"] == "notifications/test-sentinel", TimeSpan.FromSeconds(30));
            Assert.Empty(fake.Warnings);
            var probes = fake.Received.Where(m => (string?)m["method"] == RequestMethods.ServerDiscover).ToList();
            if (setting.Length == 0)
            {
                Assert.Equal(2, probes.Count);
            }
            else
            {
                Assert.Empty(probes);
            }

            Assert.Equal(2, fake.Received.Count(m => (string?)m["method"] == RequestMethods.Initialize && ((string?)m["outcome"])!.StartsWith("session ", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Calls_one_after_another_on_one_response_queue_each_get_their_replies_at_once()
    {
        var requestQueueUrl = await emulator.CreateQueueAsync("again-req");
        var responseQueue = FauxqsEmulator.UniqueName("again-resp");
        await using var server = new SqsServerTransport(emulator.Sqs, new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl }, TestMcpServer.CreateOptions());
        await server.StartAsync(Timeout);
        string[] target = ["--request-queue", requestQueueUrl, "--response-queue", responseQueue];

        // A reply taken by the poll a previous process left behind would surface only after the probe timed out, and
        // a client that insists on 2026-07-28 would then wrongly conclude that the server requires initialize.
        for (var run = 0; run < 4; run++)
        {
            var (exit, output) = await RunWithinAsync(["call", .. target, "--protocol-version", "2026-07-28", "--tool", "echo", "--arg", $"message=run {run}", "--json"]);
            Assert.True(exit == 0, $"run {run}: {output}");
            Assert.Equal($"Echo: run {run}", (string?)CliProcess.LastJsonLine(output)["content"]![0]!["text"]);
        }

        // With initialize, a stolen answer would stay hidden for the visibility timeout; every run must be well within it.
        for (var run = 0; run < 3; run++)
        {
            var (exit, output) = await RunWithinAsync(["call", .. target, "--protocol-version", "2025-11-25", "--tool", "echo", "--arg", $"message=again {run}", "--json"]);
            Assert.True(exit == 0, $"run {run}: {output}");
        }

        // Nothing of the last process polls the queue any more: the next message is received first by this receive.
        var queueUrl = (await emulator.Sqs.GetQueueUrlAsync(responseQueue, Timeout)).QueueUrl;
        await emulator.Sqs.SendMessageAsync(queueUrl, "probe", Timeout);
        var received = await emulator.Sqs.ReceiveMessageAsync(
            new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 10, WaitTimeSeconds = 5, MessageSystemAttributeNames = ["ApproximateReceiveCount"] },
            Timeout);
        var probe = Assert.Single(received.Messages ?? []);
        Assert.Equal("probe", probe.Body);
        Assert.Equal("1", probe.Attributes["ApproximateReceiveCount"]);
    }

    [Fact]
    public async Task The_inspector_runs_again_and_again_through_the_proxy_on_one_response_queue()
    {
        var requestQueue = FauxqsEmulator.UniqueName("again-inspector-req");
        await using var serve = await _cli.StartServeAsync(["--request-queue", requestQueue]);
        var proxyEnvironment = new Dictionary<string, string>
        {
            ["ASYNCMCP_REQUEST_QUEUE"] = requestQueue,
            ["ASYNCMCP_RESPONSE_QUEUE"] = FauxqsEmulator.UniqueName("again-inspector-resp"),
        };
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            for (var run = 0; run < 3; run++)
            {
                var echo = await _cli.InspectStdioProxyAsync(proxyEnvironment, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", $"message=run {run}");
                Assert.Equal($"Echo: run {run}", (string?)echo["content"]![0]!["text"]);
            }
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("call|--request-queue|q|--response-queue|r|--initialize-only|--protocol-version|2026-07-28", "", "--initialize-only cannot be combined with --protocol-version 2026-07-28")]
    [InlineData("call|--request-queue|q|--response-queue|r|--protocol-version|2099-01-01", "", "--protocol-version must be one of 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28 (was '2099-01-01')")]
    [InlineData("call|--request-queue|q|--response-queue|r", "maybe", "ASYNCMCP_INITIALIZE_ONLY (for --initialize-only) must be true or false (was 'maybe')")]
    [InlineData("proxy|--transport|hybrid|--server-url|http://127.0.0.1:1/mcp|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|--initialize-only", "", "--initialize-only applies to --transport sqs, sns-sqs and webhook (the transport is hybrid).")]
    public async Task A_bad_protocol_setting_gets_a_clear_message_and_exit_code_2(string arguments, string initializeOnly, string message)
    {
        var (exit, output) = await _cli.RunAsync(arguments.Split('|'), new() { ["ASYNCMCP_INITIALIZE_ONLY"] = initializeOnly });

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private const string Sentinel = """{"jsonrpc":"2.0","method":"notifications/test-sentinel"}""";

    private async Task<(int Exit, string Output)> RunWithinAsync(string[] arguments)
    {
        await using var cli = ChildProcess.Start("dotnet", [CliProcess.Cli, .. arguments], RepositoryPaths.Infra, _cli.Environment());
        try
        {
            return (await cli.WaitForExitAsync(s_oneRun), cli.Output);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"asyncmcp {string.Join(' ', arguments)} did not finish within {s_oneRun.TotalSeconds} s: {cli.Output}");
            throw;
        }
    }
}
