using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The <c>asyncmcp</c> command with peers nobody on this team wrote: the MCP Inspector CLI → <c>asyncmcp proxy</c>
/// (stdio) → SQS on the emulator → <c>asyncmcp serve</c> → <c>@modelcontextprotocol/server-everything</c> (stdio).
/// Every process is started here and ended by its process id.
/// </summary>
public sealed class CliChainTests(BridgeEmulator emulator)
{
    private static readonly string s_cli = CliProcess.Cli;
    private static readonly string s_everything = CliProcess.Everything;
    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task The_inspector_reaches_server_everything_through_the_proxy_SQS_and_the_bridge()
    {
        var (requestQueue, _) = await QueuesAsync();
        await using var serve = await StartServeAsync(requestQueue);
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            var list = await InspectAsync(requestQueue, home.FullName, "--method", "tools/list");
            var tools = list["tools"]!.AsArray().Select(t => (string?)t!["name"]).ToList();
            Assert.Contains("echo", tools);
            Assert.Contains("get-sum", tools);
            Assert.Contains("trigger-long-running-operation", tools);

            var echo = await InspectAsync(requestQueue, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=through the chain");
            Assert.Equal("Echo: through the chain", (string?)echo["content"]![0]!["text"]);

            var sum = await InspectAsync(requestQueue, home.FullName, "--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", "a=2", "b=3");
            Assert.Equal("The sum of 2 and 3 is 5.", (string?)sum["content"]![0]!["text"]);

            var longRun = await InspectAsync(requestQueue, home.FullName, "--method", "tools/call", "--tool-name", "trigger-long-running-operation", "--tool-arg", "duration=1", "steps=2");
            Assert.StartsWith("Long running operation completed.", (string?)longRun["content"]![0]!["text"], StringComparison.Ordinal);

            var resources = await InspectAsync(requestQueue, home.FullName, "--method", "resources/list");
            Assert.NotEmpty(resources["resources"]!.AsArray());

            var prompts = await InspectAsync(requestQueue, home.FullName, "--method", "prompts/list");
            Assert.NotEmpty(prompts["prompts"]!.AsArray());
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_inspector_reaches_server_everything_through_the_HTTP_front_and_load_runs_in_separate_sessions()
    {
        var (requestQueue, responseQueue) = await QueuesAsync();
        await using var serve = await StartServeAsync(requestQueue);
        await using var proxy = ChildProcess.Start("dotnet", [s_cli, "proxy", "--listen", "http://127.0.0.1:0", "--request-queue", requestQueue, "--response-queue", responseQueue], RepositoryPaths.Infra, AwsEnvironment());
        var line = await proxy.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim();
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            var list = await InspectUrlAsync(url, home.FullName, "--method", "tools/list");
            Assert.Contains(list["tools"]!.AsArray(), t => (string?)t!["name"] == "get-sum");
            var echo = await InspectUrlAsync(url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=over http");
            Assert.Equal("Echo: over http", (string?)echo["content"]![0]!["text"]);

            // Three load runs at once, each its own HTTP session, each with 8 calls in flight: every call answered.
            var loads = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => InspectUrlRawAsync(url, home.FullName, "--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", $"a={i}", "b=1", "--load", "--load-requests", "40", "--load-concurrency", "8")));
            foreach (var output in loads)
            {
                var summary = JsonNode.Parse(LastJsonLine(output, multiline: true))!;
                Assert.Equal(40, (int)summary["ok"]!);
                Assert.Equal(0, (int)summary["errors"]!);
                Assert.Equal(0, (int)summary["toolErrors"]!);
            }
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_HTTP_front_refuses_bad_tokens_hosts_sessions_and_bodies()
    {
        var (requestQueue, responseQueue) = await QueuesAsync();
        var token = "a-token-of-at-least-sixteen";
        await using var proxy = ChildProcess.Start("dotnet", [s_cli, "proxy", "--listen", "http://127.0.0.1:0", "--bearer-token", token, "--request-queue", requestQueue, "--response-queue", responseQueue], RepositoryPaths.Infra, AwsEnvironment());
        var line = await proxy.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = new Uri(line[(line.IndexOf("http://", StringComparison.Ordinal))..].Trim());
        using var http = new HttpClient();
        const string Initialize = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";

        async Task<(int Status, string Body)> PostAsync(string body, string? bearer = null, string? host = null, string? session = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (bearer is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            }

            if (host is not null)
            {
                request.Headers.Host = host;
            }

            if (session is not null)
            {
                request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            }

            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(401, (await PostAsync(Initialize)).Status);
        Assert.Equal(401, (await PostAsync(Initialize, bearer: "a-token-of-at-least-sixteeN")).Status);
        Assert.Equal(403, (await PostAsync(Initialize, bearer: token, host: "attacker.example")).Status);
        var unknown = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}", bearer: token, session: "nope");
        Assert.Equal(404, unknown.Status);
        Assert.Contains("\"id\":5", unknown.Body, StringComparison.Ordinal);
        var malformed = await PostAsync("{\"jsonrpc\":", bearer: token);
        Assert.Equal(400, malformed.Status);
        Assert.Contains("-32700", malformed.Body, StringComparison.Ordinal);
        Assert.Equal(400, (await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", bearer: token)).Status);
        Assert.False(proxy.HasExited);
    }

    [Fact]
    public async Task An_idle_HTTP_session_is_closed_with_its_back_session_and_child()
    {
        var (requestQueue, responseQueue) = await QueuesAsync();
        await using var serve = await StartServeAsync(requestQueue, "--max-sessions", "1", "--verbose");
        await using var proxy = ChildProcess.Start("dotnet", [s_cli, "proxy", "--listen", "http://127.0.0.1:0", "--session-idle-timeout", "3", "--request-queue", requestQueue, "--response-queue", responseQueue], RepositoryPaths.Infra, AwsEnvironment());
        var line = await proxy.WaitForLineAsync(l => l.Contains("asyncmcp proxy: listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            // The Inspector leaves its HTTP session open when it exits; with one child allowed, a second run works only
            // once the proxy has closed the idle session, its back session has closed at serve, and its child has ended.
            var first = await InspectUrlAsync(url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=run 0");
            Assert.Equal("Echo: run 0", (string?)first["content"]![0]!["text"]);

            await serve.WaitForLineAsync(l => l.Contains("ended; its MCP server connection is closed", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
            var second = await InspectUrlAsync(url, home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=run 1");
            Assert.Equal("Echo: run 1", (string?)second["content"]![0]!["text"]);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Asyncmcp_call_lists_and_calls_tools_of_asyncmcp_serve_with_json_output()
    {
        var (requestQueue, responseQueue) = await QueuesAsync();
        await using var serve = await StartServeAsync(requestQueue);

        var (listExit, listOutput) = await RunCliAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--json"]);
        Assert.True(listExit == 0, listOutput);
        Assert.Contains(JsonNode.Parse(LastJsonLine(listOutput))!.AsArray(), t => (string?)t!["name"] == "get-sum");

        var (callExit, callOutput) = await RunCliAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--tool", "get-sum", "--arg", "a=20", "--arg", "b=22", "--json"]);
        Assert.True(callExit == 0, callOutput);
        Assert.Equal("The sum of 20 and 22 is 42.", (string?)JsonNode.Parse(LastJsonLine(callOutput))!["content"]![0]!["text"]);

        var (progressExit, progressOutput) = await RunCliAsync(["call", "--request-queue", requestQueue, "--response-queue", responseQueue, "--tool", "trigger-long-running-operation", "--arg", "duration=1", "--arg", "steps=2"]);
        Assert.True(progressExit == 0, progressOutput);
        Assert.Contains("Long running operation completed.", progressOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve|--transport|kafka|--request-queue|q|--|x", "--transport 'kafka' is not supported")]
    [InlineData("serve|--", "--request-queue is required")]
    [InlineData("serve|--request-queue|q", "give the MCP server to serve")]
    [InlineData("call|--request-queue|q", "--response-queue is required")]
    [InlineData("call|--request-queue|q|--response-queue|r|--endpoint-url|not a url", "--endpoint-url must be an absolute http(s) URL")]
    [InlineData("call|--request-queue|q|--response-queue|r|--arg|novalue", "--arg 'novalue' must be key=value")]
    [InlineData("provision", "name at least one queue")]
    [InlineData("call|--transport|webhook|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--server-url is required with --transport webhook")]
    [InlineData("call|--transport|hybrid|--server-url|http://127.0.0.1:1/mcp", "--secret is required with --transport hybrid")]
    [InlineData("serve|--transport|webhook|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|--|x", "--listen is required with --transport webhook")]
    [InlineData("serve|--transport|hybrid|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|--|x", "--listen is required with --transport hybrid")]
    [InlineData("serve|--transport|hybrid|--listen|http://127.0.0.1:0|--|x", "--secret is required with --transport hybrid")]
    [InlineData("serve|--transport|hybrid|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|--listen|http://127.0.0.1:0|--response-mode|xml|--|x", "--response-mode must be sse or json (was 'xml')")]
    [InlineData("serve|--request-queue|q|--webhook-tool|t|--|x", "--webhook-tool applies to --transport hybrid only (the transport is sqs)")]
    [InlineData("serve|--transport|hybrid|--secret|whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw|--listen|http://127.0.0.1:0", "give the MCP server to serve")]
    [InlineData("provision|--request-queue|q|--max-receive-count|-1", "--max-receive-count must be from 0 to 1000")]
    [InlineData("proxy|--request-queue|q|--response-queue|r|--listen|ftp://x", "--listen must be an http URL")]
    [InlineData("proxy|--request-queue|q|--response-queue|r|--listen|http://127.0.0.1:0|--bearer-token|short", "--bearer-token must be at least 16 characters")]
    public async Task Bad_flags_get_a_clear_message_and_exit_code_2(string arguments, string message)
    {
        var (exit, output) = await RunCliAsync(arguments.Split('|'), environment: new() { ["ASYNCMCP_REQUEST_QUEUE"] = string.Empty, ["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl });

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Asyncmcp_call_reaches_asyncmcp_serve_over_signed_webhooks_and_a_wrong_secret_is_refused()
    {
        var secret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var serve = ChildProcess.Start("dotnet", [s_cli, "serve", "--transport", "webhook", "--listen", "http://127.0.0.1:0", "--allow-loopback-webhooks", "--secret", secret, "--", RepositoryPaths.Node, s_everything], RepositoryPaths.Infra, AwsEnvironment());
        var line = await serve.WaitForLineAsync(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();

        var (exit, output) = await RunCliAsync(["call", "--transport", "webhook", "--server-url", url, "--secret", secret, "--tool", "get-sum", "--arg", "a=1", "--arg", "b=2", "--json"]);
        Assert.True(exit == 0, output);
        Assert.Equal("The sum of 1 and 2 is 3.", (string?)JsonNode.Parse(LastJsonLine(output))!["content"]![0]!["text"]);

        var stranger = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var (refusedExit, refusedOutput) = await RunCliAsync(["call", "--transport", "webhook", "--server-url", url, "--secret", stranger, "--json"]);
        Assert.Equal(1, refusedExit);
        Assert.Contains("asyncmcp:", refusedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Asyncmcp_call_over_the_hybrid_transport_gets_a_webhook_tools_result()
    {
        var secret = "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMcpServer()
            .WithHybridTransport(o =>
            {
                o.Security.Secret = secret;
                o.AddressPolicy.AllowLoopback = true;
                o.WebhookTools.Add("slow_sum");
            })
            .WithTools(
            [
                McpServerTool.Create(
                    async (int a, int b, IProgress<ProgressNotificationValue> progress, CancellationToken ct) =>
                    {
                        progress.Report(new() { Progress = 1, Total = 2 });
                        await Task.Delay(100, ct);
                        progress.Report(new() { Progress = 2, Total = 2 });
                        return $"sum {a + b}";
                    },
                    new() { Name = "slow_sum" }),
            ]);
        await using var app = builder.Build();
        app.MapMcpHybrid("/mcp");
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

            var (exit, output) = await RunCliAsync(["call", "--transport", "hybrid", "--server-url", address + "/mcp", "--secret", secret, "--tool", "slow_sum", "--arg", "a=2", "--arg", "b=3", "--json"]);

            Assert.True(exit == 0, output);
            var result = JsonNode.Parse(LastJsonLine(output))!;
            Assert.Equal("sum 5", (string?)result["content"]![0]!["text"]);
            Assert.Null(result["_meta"]?["asyncmcp/accepted"]);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Provision_creates_the_queues_with_dead_letter_queues_and_can_run_again()
    {
        var name = FauxqsEmulator.UniqueName("prov-req");
        string[] arguments = ["provision", "--request-queue", name, "--response-queue", name + "-r1", "--max-receive-count", "3", "--visibility-timeout", "60"];

        var (exit, output) = await RunCliAsync(arguments);
        Assert.True(exit == 0, output);
        var created = JsonNode.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..])!["queues"]!;
        Assert.NotNull((string?)created[name]!["deadLetterQueueUrl"]);
        var attributes = await emulator.Sqs.GetQueueAttributesAsync((string)created[name]!["url"]!, ["RedrivePolicy"], TestContext.Current.CancellationToken);
        var redrive = JsonNode.Parse(attributes.Attributes["RedrivePolicy"])!;
        Assert.Equal("3", redrive["maxReceiveCount"]!.ToString());
        Assert.NotNull((string?)created[name + "-r1"]!["url"]);

        var (again, _) = await RunCliAsync(arguments);
        Assert.Equal(0, again);

        // The provisioned queues, named to serve and call, are used as they are (SQS refuses to "create" a queue
        // again with other attributes than it has, such as a longer visibility timeout).
        await using var serve = await StartServeAsync(name);
        var (listExit, listOutput) = await RunCliAsync(["call", "--request-queue", name, "--response-queue", name + "-r1", "--json"]);
        Assert.True(listExit == 0, listOutput);
        Assert.Contains(JsonNode.Parse(LastJsonLine(listOutput))!.AsArray(), t => (string?)t!["name"] == "echo");
    }

    [Fact]
    public async Task Help_describes_every_command()
    {
        var (exit, output) = await RunCliAsync(["--help"]);

        Assert.Equal(0, exit);
        Assert.Contains("serve", output, StringComparison.Ordinal);
        Assert.Contains("proxy", output, StringComparison.Ordinal);
        Assert.Contains("call", output, StringComparison.Ordinal);
        Assert.Contains("provision", output, StringComparison.Ordinal);
    }

    private async Task<(string RequestQueue, string ResponseQueue)> QueuesAsync() =>
        (await emulator.CreateQueueAsync("cli-req"), await emulator.CreateQueueAsync("cli-resp"));

    private Dictionary<string, string> AwsEnvironment() => _cli.Environment();

    private Task<ChildProcess> StartServeAsync(string requestQueue, params string[] options) =>
        _cli.StartServeAsync(["--request-queue", requestQueue, .. options]);

    private async Task<JsonNode> InspectAsync(string requestQueue, string home, params string[] arguments)
    {
        var launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
        var responseQueue = await emulator.CreateQueueAsync("cli-inspector-resp");
        var environment = AwsEnvironment();
        environment["HOME"] = home;

        // The Inspector starts the proxy with a minimal environment of its own: the settings go by -e.
        var serverEnvironment = new Dictionary<string, string>(AwsEnvironment().Where(pair => pair.Value.Length > 0))
        {
            ["ASYNCMCP_REQUEST_QUEUE"] = requestQueue,
            ["ASYNCMCP_RESPONSE_QUEUE"] = responseQueue,
        }.SelectMany(pair => new[] { "-e", $"{pair.Key}={pair.Value}" });
        string[] server = ["--transport", "stdio", "dotnet", s_cli, "proxy"];
        await using var inspector = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", launcher, "--cli", .. serverEnvironment, .. arguments, .. server], RepositoryPaths.Infra, environment);
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        return JsonNode.Parse(LastJsonLine(inspector.Output, multiline: true))!;
    }

    private static async Task<JsonNode> InspectUrlAsync(string url, string home, params string[] arguments) =>
        JsonNode.Parse(LastJsonLine(await InspectUrlRawAsync(url, home, arguments), multiline: true))!;

    private static async Task<string> InspectUrlRawAsync(string url, string home, params string[] arguments)
    {
        var launcher = Path.Combine(RepositoryPaths.Infra, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
        await using var inspector = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", launcher, "--cli", url, "--transport", "http", .. arguments], RepositoryPaths.Infra, new Dictionary<string, string> { ["HOME"] = home });
        var exit = await inspector.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(exit == 0, $"the inspector exited with {exit}: {inspector.Output}");
        return inspector.Output;
    }

    private Task<(int Exit, string Output)> RunCliAsync(string[] arguments, Dictionary<string, string>? environment = null) =>
        _cli.RunAsync(arguments, environment);

    private static string LastJsonLine(string output, bool multiline = false)
    {
        if (multiline)
        {
            var start = output.IndexOf('{', StringComparison.Ordinal);
            return output[start..];
        }

        return output.Split('\n').Last(l => l.TrimStart().StartsWith('{') || l.TrimStart().StartsWith('['));
    }
}
