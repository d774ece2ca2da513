using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <c>asyncmcp serve --transport webhook|hybrid</c> refuses webhooks on loopback by default (server-side request
/// forgery), and allows them when told by flag, environment variable or config key. <c>asyncmcp call</c> runs on the
/// same machine, so its webhook is on loopback: it must get the refusal at once, naming the setting.
/// </summary>
public sealed class CliWebhookAddressPolicyTests(BridgeEmulator emulator)
{
    private const string LongTool = "trigger-long-running-operation";
    private readonly CliProcess _cli = new(emulator);
    private readonly string _secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task Serve_over_webhooks_refuses_a_loopback_webhook_by_default_and_allows_it_by_environment_variable()
    {
        await using (var strict = await _cli.StartServeAsync(["--transport", "webhook", "--listen", "http://127.0.0.1:0", "--secret", _secret]))
        {
            var (exit, output) = await _cli.RunAsync(["call", "--transport", "webhook", "--server-url", ServedUrl(strict), "--secret", _secret, "--json"]);

            Assert.Equal(1, exit);
            Assert.Contains("reply-address policy", output, StringComparison.Ordinal);
            Assert.Contains("--allow-loopback-webhooks", output, StringComparison.Ordinal);
        }

        await using var open = await _cli.StartServeAsync(["--transport", "webhook", "--listen", "http://127.0.0.1:0", "--secret", _secret], new() { ["ASYNCMCP_ALLOW_LOOPBACK_WEBHOOKS"] = "true" });
        var (okExit, okOutput) = await _cli.RunAsync(["call", "--transport", "webhook", "--server-url", ServedUrl(open), "--secret", _secret, "--tool", "get-sum", "--arg", "a=1", "--arg", "b=2", "--json"]);

        Assert.True(okExit == 0, okOutput);
        Assert.Equal("The sum of 1 and 2 is 3.", (string?)CliProcess.LastJsonLine(okOutput)["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Serve_hybrid_refuses_a_loopback_webhook_for_webhook_tools_by_default_and_allows_it_by_config_key()
    {
        string[] serve = ["--transport", "hybrid", "--listen", "http://127.0.0.1:0", "--secret", _secret, "--webhook-tool", LongTool];
        string[] call = ["--transport", "hybrid", "--secret", _secret, "--tool", LongTool, "--arg", "duration=1", "--arg", "steps=2", "--json"];
        await using (var strict = await _cli.StartServeAsync(serve))
        {
            var (exit, output) = await _cli.RunAsync(["call", "--server-url", ServedUrl(strict) + "/mcp", .. call]);

            Assert.Equal(1, exit);
            Assert.Contains("reply-address policy", output, StringComparison.Ordinal);
            Assert.Contains("--allow-loopback-webhooks", output, StringComparison.Ordinal);
        }

        var config = Path.Combine(Directory.CreateTempSubdirectory("asyncmcp-policy-").FullName, "asyncmcp.json");
        try
        {
            await File.WriteAllTextAsync(config, new JsonObject { ["allowLoopbackWebhooks"] = true }.ToJsonString(), TestContext.Current.CancellationToken);
            await using var open = await _cli.StartServeAsync(["--config", config, .. serve]);
            var (okExit, okOutput) = await _cli.RunAsync(["call", "--server-url", ServedUrl(open) + "/mcp", .. call]);

            Assert.True(okExit == 0, okOutput);
            Assert.StartsWith("Long running operation completed.", (string?)CliProcess.LastJsonLine(okOutput)["content"]![0]!["text"], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(config)!, recursive: true);
        }
    }

    [Theory]
    [InlineData("serve|--request-queue|q|--allow-loopback-webhooks|--|x", "--allow-loopback-webhooks applies to --transport webhook or hybrid only (the transport is sqs)")]
    [InlineData("serve|--request-queue|q|--allow-private-webhooks|--|x", "--allow-private-webhooks applies to --transport webhook or hybrid only (the transport is sqs)")]
    public async Task The_settings_apply_to_the_webhook_and_hybrid_servers_only(string arguments, string message)
    {
        var (exit, output) = await _cli.RunAsync(arguments.Split('|'));

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    // The serve command prints "serving on http://127.0.0.1:port/mcp/request" (webhook) or ".../mcp" (hybrid): the
    // webhook URL as printed, the hybrid one without its path.
    private static string ServedUrl(ChildProcess serve)
    {
        var line = serve.Output.Split('\n').Last(l => l.Contains("asyncmcp serve: serving on", StringComparison.Ordinal));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();
        return url.EndsWith("/mcp", StringComparison.Ordinal) ? url[..^"/mcp".Length] : url;
    }
}
