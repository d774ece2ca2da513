using System.Diagnostics;
using System.Globalization;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// What the <c>asyncmcp</c> command prints when things go wrong, run as a real process: one line naming the flag and
/// the likely cause, the documented exit code, and nothing of the SDK's logs unless <c>--verbose</c> asks for them.
/// </summary>
public sealed class CliOutputTests(BridgeEmulator emulator)
{
    private const string GoodSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private readonly CliProcess _cli = new(emulator);

    [Theory]
    [InlineData("call|--request-queu|q", "Unrecognized command or argument '--request-queu' (did you mean --request-queue?) (see 'asyncmcp call --help').")]
    [InlineData("cal|--tool|echo", "Unrecognized command or argument 'cal' (did you mean call?) (see 'asyncmcp --help').")]
    [InlineData("serve|--max-sessions|many|--|x", "Cannot parse argument 'many' for option '--max-sessions'")]
    [InlineData("call|--tool", "Required argument missing for option: '--tool'")]
    [InlineData("", "Required command was not provided")]
    public async Task A_command_line_that_does_not_parse_gets_one_line_and_exit_code_2(string arguments, string message)
    {
        var (exit, output, error) = await _cli.RunSeparatedAsync(arguments.Split('|', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(2, exit);
        Assert.Empty(CliProcess.Lines(output));
        var line = Assert.Single(CliProcess.Lines(error));
        Assert.StartsWith("asyncmcp: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("call|--transport|webhook|--server-url|http://127.0.0.1:1/mcp/request|--secret|not-a-secret!", "--secret must be a Standard Webhooks secret")]
    [InlineData("call|--transport|hybrid|--server-url|http://127.0.0.1:1/mcp", "--secret is required with --transport hybrid")]
    public async Task A_bad_or_missing_secret_names_the_flag_and_how_to_make_one_from_a_shell(string arguments, string message)
    {
        var (exit, _, error) = await _cli.RunSeparatedAsync(arguments.Split('|'));

        Assert.Equal(2, exit);
        var line = Assert.Single(CliProcess.Lines(error));
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.Contains("echo \"whsec_$(openssl rand -base64 32)\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain("WebhookSecret", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-secret", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_the_libraries_refuse_are_reported_by_their_flag()
    {
        var (exit, _, error) = await _cli.RunSeparatedAsync(["serve", "--request-queue", "q", "--max-sessions", "0", "--", "x"]);

        Assert.Equal(2, exit);
        Assert.Equal("asyncmcp: --max-sessions must be from 1 to 10000 (was 0).", Assert.Single(CliProcess.Lines(error)));
    }

    [Fact]
    public async Task Queues_that_do_not_exist_are_named_by_their_flag_in_one_line_with_exit_code_1()
    {
        var missing = emulator.Emulator.ServiceUrl + "/000000000000/" + FauxqsEmulator.UniqueName("missing");
        var existing = await emulator.CreateQueueAsync("cli-out");

        var call = await _cli.RunSeparatedAsync(["call", "--request-queue", missing, "--response-queue", existing]);
        var reply = await _cli.RunSeparatedAsync(["call", "--request-queue", existing, "--response-queue", missing]);
        var serve = await _cli.RunSeparatedAsync(["serve", "--request-queue", missing, "--", "x"]);

        Assert.Equal(1, call.Exit);
        Assert.Equal($"asyncmcp: --request-queue '{missing}' does not exist: give the URL of an existing queue, or a queue name to create it.", Assert.Single(CliProcess.Lines(call.StandardError)));
        Assert.Equal(1, reply.Exit);
        Assert.StartsWith($"asyncmcp: --response-queue '{missing}' cannot be used: ", Assert.Single(CliProcess.Lines(reply.StandardError)), StringComparison.Ordinal);
        Assert.Equal(1, serve.Exit);
        Assert.StartsWith($"asyncmcp: --request-queue '{missing}' cannot be used: ", Assert.Single(CliProcess.Lines(serve.StandardError)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_topic_that_does_not_exist_is_one_line_with_exit_code_1()
    {
        var topic = "arn:aws:sns:us-east-1:000000000000:" + FauxqsEmulator.UniqueName("missing-topic");
        var client = FauxqsEmulator.UniqueName("cli-out-client");

        var (exit, _, error) = await _cli.RunSeparatedAsync(["call", "--transport", "sns-sqs", "--server-topic", topic, "--client-topic", client, "--client-queue", client]);

        Assert.Equal(1, exit);
        var line = Assert.Single(CliProcess.Lines(error));
        Assert.StartsWith($"asyncmcp: the server topic '{topic}' does not exist", line, StringComparison.Ordinal);
        Assert.Contains("--server-topic", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_server_on_the_queue_call_names_the_queue_and_gives_up_after_its_timeout()
    {
        var requestQueue = await emulator.CreateQueueAsync("cli-nobody");
        var responseQueue = await emulator.CreateQueueAsync("cli-nobody-resp");
        var clock = Stopwatch.StartNew();

        var (exit, output, error) = await _cli.RunSeparatedAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--tool", "echo", "--timeout", "3"]);

        Assert.Equal(1, exit);
        Assert.Empty(CliProcess.Lines(output));
        Assert.Equal(
            $"asyncmcp: no answer from the server on the request queue '{requestQueue}' within 3 s: is 'asyncmcp serve' (or another MCP server) running there? (--timeout waits longer)",
            Assert.Single(CliProcess.Lines(error)));

        // Not the SDK's 60 s default: the command gave up after its own timeout (and its start-up).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_bad_timeout_is_a_usage_error()
    {
        var (exit, _, error) = await _cli.RunSeparatedAsync(["call", "--request-queue", "q", "--response-queue", "r", "--timeout", "-1"]);

        Assert.Equal(2, exit);
        Assert.Equal("asyncmcp: --timeout must be from 0 (no limit) to 86400 seconds (was -1).", Assert.Single(CliProcess.Lines(error)));
    }

    [Fact]
    public async Task A_successful_call_prints_its_progress_to_completion_and_its_result_and_no_logs()
    {
        var requestQueue = await emulator.CreateQueueAsync("cli-ok");
        var responseQueue = await emulator.CreateQueueAsync("cli-ok-resp");
        await using var serve = await _cli.StartServeAsync(["--request-queue", requestQueue]);

        var (exit, output, error) = await _cli.RunSeparatedAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--tool", "trigger-long-running-operation", "--arg", "duration=1", "--arg", "steps=5", "--timeout", "30"]);

        Assert.True(exit == 0, error + output);
        Assert.Empty(CliProcess.Lines(error));
        var lines = CliProcess.Lines(output);
        Assert.Equal("Long running operation completed. Duration: 1 seconds, Steps: 5.", lines[^1]);
        var percentages = lines[..^1].Select(l =>
        {
            Assert.StartsWith("trigger-long-running-operation: ", l, StringComparison.Ordinal);
            return int.Parse(l["trigger-long-running-operation: ".Length..].Split('%')[0], CultureInfo.InvariantCulture);
        }).ToList();
        Assert.Equal(100, percentages[^1]);
        Assert.Equal(percentages.Order(), percentages);

        // --verbose brings the SDK's logs back (here its server/discover probe, which the bridged server does not know).
        var verbose = await _cli.RunSeparatedAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--tool", "echo", "--arg", "message=hi", "--verbose"]);
        Assert.True(verbose.Exit == 0, verbose.StandardError);
        Assert.Contains("server/discover", verbose.StandardError, StringComparison.Ordinal);
        Assert.Contains("ModelContextProtocol.Client", verbose.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_that_cannot_start_is_reported_to_the_client_with_the_reason()
    {
        var requestQueue = await emulator.CreateQueueAsync("cli-nocmd");
        var responseQueue = await emulator.CreateQueueAsync("cli-nocmd-resp");
        var command = "/nonexistent/" + FauxqsEmulator.UniqueName("mcp-server");
        await using var serve = ChildProcess.Start("dotnet", [CliProcess.Cli, "serve", "--request-queue", requestQueue, "--", command], RepositoryPaths.Infra, _cli.Environment());
        await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var (exit, _, error) = await _cli.RunSeparatedAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--timeout", "30"]);

        Assert.Equal(1, exit);
        var line = Assert.Single(CliProcess.Lines(error));
        Assert.Contains("could not be started", line, StringComparison.Ordinal);
        Assert.Contains($"trying to start process '{command}'", line, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", line, StringComparison.Ordinal);

        // The server says so too, in one line per attempt rather than the SDK's stack traces, and keeps running.
        var logged = await serve.WaitForLineAsync(l => l.Contains("could not be started", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        // Each line names the worker (one of possibly several serve replicas on the queue).
        Assert.Matches(@"^asyncmcp \[worker [0-9a-f]{8}\]: error: ", logged);
        Assert.DoesNotContain("   at ", serve.StandardError, StringComparison.Ordinal);
        Assert.False(serve.HasExited);
    }

    [Fact]
    public async Task A_wrong_secret_is_one_line_with_exit_code_1()
    {
        var secret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var serve = ChildProcess.Start("dotnet", [CliProcess.Cli, "serve", "--transport", "webhook", "--listen", "http://127.0.0.1:0", "--secret", secret, "--", RepositoryPaths.Node, CliProcess.Everything], RepositoryPaths.Infra, _cli.Environment());
        var line = await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();

        var (exit, _, error) = await _cli.RunSeparatedAsync(["call", "--transport", "webhook", "--server-url", url, "--secret", GoodSecret]);

        Assert.Equal(1, exit);
        Assert.Contains("signature does not match", Assert.Single(CliProcess.Lines(error)), StringComparison.Ordinal);
    }
}
