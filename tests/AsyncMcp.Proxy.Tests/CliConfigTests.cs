using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The <c>asyncmcp</c> config file (<c>--config</c>, <c>ASYNCMCP_CONFIG</c>): its values are used, environment
/// variables and flags override them, and a bad file or key is a usage error naming the file and the key. Observed
/// through <c>provision</c>, whose effects the emulator shows at once.
/// </summary>
public sealed class CliConfigTests(BridgeEmulator emulator) : IDisposable
{
    private readonly CliProcess _cli = new(emulator);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("asyncmcp-config-");

    [Fact]
    public async Task A_config_file_value_is_used_and_environment_variables_and_flags_override_it()
    {
        var fromFile = FauxqsEmulator.UniqueName("cfg-file");
        var fromEnvironment = FauxqsEmulator.UniqueName("cfg-env");
        var fromFlag = FauxqsEmulator.UniqueName("cfg-flag");
        var config = await WriteAsync("settings.json", new JsonObject
        {
            ["requestQueue"] = fromFile,
            ["visibilityTimeout"] = 45,
            ["maxReceiveCount"] = 0,
            ["endpointUrl"] = emulator.Emulator.ServiceUrl,
        }.ToJsonString());

        // Only the file names the endpoint and the queue: both are used.
        var (exit, output) = await _cli.RunAsync(["provision", "--config", config], new() { ["AWS_ENDPOINT_URL"] = string.Empty });
        Assert.True(exit == 0, output);
        Assert.Equal([fromFile], QueueNames(output));
        Assert.Equal("45", await VisibilityTimeoutAsync(output, fromFile));

        // The environment beats the file (the queue), a flag beats the file (the visibility timeout).
        (exit, output) = await _cli.RunAsync(["provision", "--config", config, "--visibility-timeout", "50"], new() { ["ASYNCMCP_REQUEST_QUEUE"] = fromEnvironment });
        Assert.True(exit == 0, output);
        Assert.Equal([fromEnvironment], QueueNames(output));
        Assert.Equal("50", await VisibilityTimeoutAsync(output, fromEnvironment));

        // A flag beats the environment; ASYNCMCP_CONFIG names the file when --config does not.
        (exit, output) = await _cli.RunAsync(["provision", "--request-queue", fromFlag], new() { ["ASYNCMCP_REQUEST_QUEUE"] = fromEnvironment, ["ASYNCMCP_CONFIG"] = config });
        Assert.True(exit == 0, output);
        Assert.Equal([fromFlag], QueueNames(output));
        Assert.Equal("45", await VisibilityTimeoutAsync(output, fromFlag));
    }

    [Fact]
    public async Task The_config_file_named_by_the_flag_wins_over_the_one_named_by_ASYNCMCP_CONFIG()
    {
        var good = await WriteAsync("good.json", "{\"requestQueue\": \"" + FauxqsEmulator.UniqueName("cfg-good") + "\"}");
        var bad = await WriteAsync("bad.json", "{\"requestQueue\": 1}");

        var (exit, output) = await _cli.RunAsync(["provision", "--config", good], new() { ["ASYNCMCP_CONFIG"] = bad });

        Assert.True(exit == 0, output);
    }

    [Theory]
    [InlineData("call", "{\"requestQeue\": \"q\"}", "unknown key \"requestQeue\" (keys are the long flag names in camelCase")]
    [InlineData("call", "{\"request-queue\": \"q\"}", "unknown key \"request-queue\" (did you mean \"requestQueue\"?)")]
    [InlineData("call", "{\"RequestQueue\": \"q\"}", "unknown key \"RequestQueue\" (did you mean \"requestQueue\"?)")]
    [InlineData("provision", "{\"visibilityTimeout\": \"45\"}", "key \"visibilityTimeout\" must be a whole number (found a string)")]
    [InlineData("serve", "{\"maxSessions\": 2.5}", "key \"maxSessions\" must be a whole number (found a number)")]
    [InlineData("call", "{\"json\": \"yes\"}", "key \"json\" must be true or false (found a string)")]
    [InlineData("call", "{\"requestQueue\": [\"q\"]}", "key \"requestQueue\" must be a string (found an array)")]
    [InlineData("call", "{\"secret\": null}", "key \"secret\" must be a string (found null)")]
    [InlineData("provision", "{\"responseQueue\": [\"a\", 2]}", "key \"responseQueue\" must be a string or a list of strings")]
    [InlineData("call", "{\"requestQueue\": \"a\", \"requestQueue\": \"b\"}", "key \"requestQueue\" appears more than once")]
    [InlineData("call", "{\"config\": \"other.json\"}", "key \"config\" is not allowed")]
    [InlineData("call", "[\"requestQueue\"]", "must hold one JSON object of settings")]
    [InlineData("call", "{\n  \"requestQueue\": \"q\"\n  \"responseQueue\": \"r\"\n}", "is not valid JSON at line 3")]
    [InlineData("call", "", "is not valid JSON")]
    [InlineData("call", "{\"transport\": \"kafka\"}", "--transport 'kafka' (from config file")]
    [InlineData("call", "{\"requestQueue\": \"q\", \"responseQueue\": \"r\", \"endpointUrl\": \"not a url\"}", "--endpoint-url must be an absolute http(s) URL (was 'not a url' from config file")]
    public async Task A_bad_config_file_gets_a_clear_message_naming_the_file_and_key_and_exit_code_2(string command, string content, string message)
    {
        var config = await WriteAsync("bad.json", content);

        var (exit, output) = await _cli.RunAsync([command, "--config", config], new() { ["AWS_ENDPOINT_URL"] = string.Empty });

        Assert.Equal(2, exit);
        Assert.Contains($"config file '{config}'", output, StringComparison.Ordinal);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_file_that_cannot_be_read_is_a_usage_error()
    {
        var missing = Path.Combine(_directory.FullName, "missing.json");

        var (exit, output) = await _cli.RunAsync(["serve", "--", "x"], new() { ["ASYNCMCP_CONFIG"] = missing });

        Assert.Equal(2, exit);
        Assert.Contains($"asyncmcp: config file '{missing}' cannot be read", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_of_another_commands_flag_is_accepted_so_one_file_serves_several_commands()
    {
        var queue = FauxqsEmulator.UniqueName("cfg-shared");
        var config = await WriteAsync("shared.json", new JsonObject { ["requestQueue"] = queue, ["maxSessions"] = 4, ["tool"] = "echo", ["listen"] = "http://127.0.0.1:0" }.ToJsonString());

        var (exit, output) = await _cli.RunAsync(["provision", "--config", config]);

        Assert.True(exit == 0, output);
        Assert.Equal([queue], QueueNames(output));
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_directory.FullName, name);
        await File.WriteAllTextAsync(path, content, TestContext.Current.CancellationToken);
        return path;
    }

    private static string[] QueueNames(string output) => [.. CliProcess.JsonDocumentIn(output)["queues"]!.AsObject().Select(pair => pair.Key)];

    private async Task<string> VisibilityTimeoutAsync(string output, string queue)
    {
        var url = (string)CliProcess.JsonDocumentIn(output)["queues"]![queue]!["url"]!;
        var attributes = await emulator.Sqs.GetQueueAttributesAsync(url, ["VisibilityTimeout"], TestContext.Current.CancellationToken);
        return attributes.Attributes["VisibilityTimeout"];
    }
}
