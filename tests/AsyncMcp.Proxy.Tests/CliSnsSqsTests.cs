using System.Text.Json.Nodes;
using System.Xml.Linq;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Testing;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The <c>asyncmcp</c> command over SNS+SQS on the emulator: <c>call</c> and the MCP Inspector (through <c>proxy</c>)
/// against <c>serve</c> in front of <c>server-everything</c>, with topics, queues and subscriptions created from
/// names; and <c>provision</c> creating topics and subscribed queues. Every process is started here and ended by its
/// process id.
/// </summary>
public sealed class CliSnsSqsTests(BridgeEmulator emulator)
{
    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task Asyncmcp_call_reaches_asyncmcp_serve_over_sns_sqs_with_topics_queues_and_subscriptions_created_from_names()
    {
        var serverTopic = FauxqsEmulator.UniqueName("cli-st");
        var directory = Directory.CreateTempSubdirectory("asyncmcp-config-");
        try
        {
            // One file for both commands: each reads its own keys and ignores the other's (serverQueue is serve's only).
            var config = Path.Combine(directory.FullName, "asyncmcp.json");
            await File.WriteAllTextAsync(config, new JsonObject
            {
                ["transport"] = "sns-sqs",
                ["serverTopic"] = serverTopic,
                ["serverQueue"] = FauxqsEmulator.UniqueName("cli-sq"),
                ["clientTopic"] = FauxqsEmulator.UniqueName("cli-ct"),
                ["clientQueue"] = FauxqsEmulator.UniqueName("cli-cq"),
            }.ToJsonString(), TestContext.Current.CancellationToken);
            await using var serve = await _cli.StartServeAsync(["--config", config]);

            var (listExit, listOutput) = await _cli.RunAsync(["call", "--json"], new() { ["ASYNCMCP_CONFIG"] = config });
            Assert.True(listExit == 0, listOutput);
            Assert.Contains(CliProcess.LastJsonLine(listOutput).AsArray(), t => (string?)t!["name"] == "get-sum");

            // A flag beats the file; the client queue is the one the previous run used.
            var (callExit, callOutput) = await _cli.RunAsync(["call", "--config", config, "--client-topic", FauxqsEmulator.UniqueName("cli-ct"), "--tool", "get-sum", "--arg", "a=20", "--arg", "b=22", "--json"]);
            Assert.True(callExit == 0, callOutput);
            Assert.Equal("The sum of 20 and 22 is 42.", (string?)CliProcess.LastJsonLine(callOutput)["content"]![0]!["text"]);

            // All by flags, with a client queue of its own subscribed for enveloped delivery, and the progress bar.
            var clientQueue = FauxqsEmulator.UniqueName("cli-cq-env");
            var (progressExit, progressOutput) = await _cli.RunAsync(
            [
                "call", "--transport", "sns-sqs", "--server-topic", serverTopic, "--client-topic", FauxqsEmulator.UniqueName("cli-ct"), "--client-queue", clientQueue,
                "--raw-delivery", "false", "--tool", "trigger-long-running-operation", "--arg", "duration=1", "--arg", "steps=2",
            ]);
            Assert.True(progressExit == 0, progressOutput);
            Assert.Contains("Long running operation completed.", progressOutput, StringComparison.Ordinal);
            Assert.False(serve.HasExited);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_inspector_reaches_server_everything_through_the_stdio_proxy_over_sns_sqs()
    {
        var serverTopic = FauxqsEmulator.UniqueName("cli-st");
        await using var serve = await _cli.StartServeAsync(["--transport", "sns-sqs", "--server-topic", serverTopic, "--server-queue", FauxqsEmulator.UniqueName("cli-sq"), "--raw-delivery", "false"]);
        var clientTopic = FauxqsEmulator.UniqueName("cli-inspector-ct");

        // Each Inspector run starts its own proxy, on the same client queue, as a user's settings make it.
        var clientQueue = FauxqsEmulator.UniqueName("cli-inspector-cq");
        Dictionary<string, string> ProxyEnvironment() => new()
        {
            ["ASYNCMCP_TRANSPORT"] = "sns-sqs",
            ["ASYNCMCP_SERVER_TOPIC"] = serverTopic,
            ["ASYNCMCP_CLIENT_TOPIC"] = clientTopic,
            ["ASYNCMCP_CLIENT_QUEUE"] = clientQueue,
        };
        var home = Directory.CreateTempSubdirectory("asyncmcp-inspector-");
        try
        {
            var list = await _cli.InspectStdioProxyAsync(ProxyEnvironment(), home.FullName, "--method", "tools/list");
            Assert.Contains(list["tools"]!.AsArray(), t => (string?)t!["name"] == "echo");

            var echo = await _cli.InspectStdioProxyAsync(ProxyEnvironment(), home.FullName, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=over topics");
            Assert.Equal("Echo: over topics", (string?)echo["content"]![0]!["text"]);

            var longRun = await _cli.InspectStdioProxyAsync(ProxyEnvironment(), home.FullName, "--method", "tools/call", "--tool-name", "trigger-long-running-operation", "--tool-arg", "duration=1", "steps=2");
            Assert.StartsWith("Long running operation completed.", (string?)longRun["content"]![0]!["text"], StringComparison.Ordinal);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Queues_provisioned_with_other_settings_are_used_as_they_are_by_serve_and_call()
    {
        var serverTopic = FauxqsEmulator.UniqueName("keep-st");
        var serverQueue = FauxqsEmulator.UniqueName("keep-sq");
        var clientTopic = FauxqsEmulator.UniqueName("keep-ct");
        var clientQueue = FauxqsEmulator.UniqueName("keep-cq");
        var (exit, output) = await _cli.RunAsync(["provision", "--server-topic", serverTopic, "--server-queue", serverQueue, "--client-topic", clientTopic, "--client-queue", clientQueue, "--visibility-timeout", "60"]);
        Assert.True(exit == 0, output);

        // SQS refuses to create a queue again with other attributes than it has: named here, the queues are only looked up.
        await using var serve = await _cli.StartServeAsync(["--transport", "sns-sqs", "--server-topic", serverTopic, "--server-queue", serverQueue]);
        var (listExit, listOutput) = await _cli.RunAsync(["call", "--transport", "sns-sqs", "--server-topic", serverTopic, "--client-topic", clientTopic, "--client-queue", clientQueue, "--json"]);

        Assert.True(listExit == 0, listOutput);
        Assert.Contains(CliProcess.LastJsonLine(listOutput).AsArray(), t => (string?)t!["name"] == "get-sum");
        var attributes = await emulator.Sqs.GetQueueAttributesAsync(await emulator.Sqs.GetQueueUrlAsync(serverQueue, TestContext.Current.CancellationToken) is { } url ? url.QueueUrl : null, ["VisibilityTimeout"], TestContext.Current.CancellationToken);
        Assert.Equal("60", attributes.Attributes["VisibilityTimeout"]);
    }

    [Fact]
    public async Task Provision_creates_topics_and_subscribed_queues_that_a_publish_reaches_and_can_run_again()
    {
        var serverTopic = FauxqsEmulator.UniqueName("prov-st");
        var serverQueue = FauxqsEmulator.UniqueName("prov-sq");
        var clientTopic = FauxqsEmulator.UniqueName("prov-ct");
        var clientQueue = FauxqsEmulator.UniqueName("prov-cq");
        string[] raw = ["provision", "--server-topic", serverTopic, "--server-queue", serverQueue, "--max-receive-count", "3"];
        string[] enveloped = ["provision", "--client-topic", clientTopic, "--client-queue", clientQueue, "--raw-delivery", "false"];

        var (exit, output) = await _cli.RunAsync(raw);
        Assert.True(exit == 0, output);
        var created = CliProcess.JsonDocumentIn(output);
        var topicArn = (string)created["topics"]![serverTopic]!["arn"]!;
        var queue = created["queues"]![serverQueue]!;
        Assert.Equal(topicArn, (string?)queue["topicArn"]);
        Assert.NotNull((string?)queue["deadLetterQueueUrl"]);
        var subscriptionArn = (string)queue["subscriptionArn"]!;

        // The emulator holds the subscription, raw, from the topic to the queue, and a policy letting only that topic send.
        var subscriptions = await _cli.SnsAsync("ListSubscriptionsByTopic", ("TopicArn", topicArn));
        var member = Assert.Single(subscriptions.Descendants(), e => e.Name.LocalName == "member");
        Assert.Equal("sqs", Child(member, "Protocol"));
        Assert.Equal((string)queue["arn"]!, Child(member, "Endpoint"));
        Assert.Equal(subscriptionArn, Child(member, "SubscriptionArn"));
        Assert.Equal("true", SubscriptionAttribute(await _cli.SnsAsync("GetSubscriptionAttributes", ("SubscriptionArn", subscriptionArn)), "RawMessageDelivery"));
        var policy = await emulator.Sqs.GetQueueAttributesAsync((string)queue["url"]!, ["Policy", "RedrivePolicy"], TestContext.Current.CancellationToken);
        Assert.Contains(topicArn, policy.Attributes["Policy"], StringComparison.Ordinal);
        Assert.Equal("3", JsonNode.Parse(policy.Attributes["RedrivePolicy"])!["maxReceiveCount"]!.ToString());

        // A publish to the topic reaches the queue as the bare message.
        Assert.Equal("hello server", await PublishAndReceiveAsync(topicArn, (string)queue["url"]!, "hello server"));

        // Again: the same topic, queue and subscription.
        var (again, againOutput) = await _cli.RunAsync(raw);
        Assert.True(again == 0, againOutput);
        Assert.Equal(subscriptionArn, (string?)CliProcess.JsonDocumentIn(againOutput)["queues"]![serverQueue]!["subscriptionArn"]);

        // --raw-delivery false: the queue receives the SNS envelope.
        var (envelopedExit, envelopedOutput) = await _cli.RunAsync(enveloped);
        Assert.True(envelopedExit == 0, envelopedOutput);
        var client = CliProcess.JsonDocumentIn(envelopedOutput);
        var clientTopicArn = (string)client["topics"]![clientTopic]!["arn"]!;
        Assert.False((bool)client["queues"]![clientQueue]!["rawDelivery"]!);
        var envelope = JsonNode.Parse(await PublishAndReceiveAsync(clientTopicArn, (string)client["queues"]![clientQueue]!["url"]!, "hello client"))!;
        Assert.Equal("Notification", (string?)envelope["Type"]);
        Assert.Equal("hello client", (string?)envelope["Message"]);
    }

    [Theory]
    [InlineData("serve|--transport|sns-sqs|--|x", "--server-queue is required with --transport sns-sqs (or set ASYNCMCP_SERVER_QUEUE, or \"serverQueue\" in the config file)")]
    [InlineData("serve|--transport|sns-sqs|--server-queue|q|--|x", "--server-topic is required with --transport sns-sqs when --server-queue is a name")]
    [InlineData("serve|--transport|sns-sqs|--server-topic|t.fifo|--server-queue|q|--|x", "--server-queue 'q' must end in .fifo")]
    [InlineData("call|--transport|sns-sqs", "--server-topic is required with --transport sns-sqs (or set ASYNCMCP_SERVER_TOPIC")]
    [InlineData("call|--transport|sns-sqs|--server-topic|t", "--client-topic is required with --transport sns-sqs")]
    [InlineData("proxy|--transport|sns-sqs|--server-topic|t|--client-topic|c", "--client-queue is required with --transport sns-sqs")]
    [InlineData("call|--transport|sns-sqs|--server-topic|arn:aws:sqs:us-east-1:123456789012:q|--client-topic|c|--client-queue|q", "--server-topic must be an SNS topic ARN")]
    [InlineData("call|--transport|sns-sqs|--server-topic|t|--client-topic|no spaces|--client-queue|q", "--client-topic must be a topic ARN or a topic name")]
    [InlineData("call|--transport|sns-sqs|--server-topic|t|--client-topic|c|--client-queue|q!", "--client-queue must be a queue URL or a queue name")]
    [InlineData("provision|--server-queue|q", "--server-queue needs --server-topic")]
    [InlineData("provision|--client-topic|c|--client-queue|http://127.0.0.1:1/000000000000/q", "--client-queue takes a queue name for provision to create, not a URL")]
    [InlineData("provision|--request-queue|bad/name", "--request-queue must be a queue URL or a queue name")]
    public async Task Bad_sns_sqs_flags_get_a_clear_message_and_exit_code_2(string arguments, string message)
    {
        var (exit, output) = await _cli.RunAsync(arguments.Split('|'));

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_value_from_an_environment_variable_is_reported_with_the_variables_name()
    {
        var (exit, output) = await _cli.RunAsync(
            ["call", "--transport", "sns-sqs", "--client-topic", "c", "--client-queue", "q"],
            new() { ["ASYNCMCP_SERVER_TOPIC"] = "arn:aws:sqs:us-east-1:123456789012:q" });

        Assert.Equal(2, exit);
        Assert.Contains("(was 'arn:aws:sqs:us-east-1:123456789012:q' from ASYNCMCP_SERVER_TOPIC)", output, StringComparison.Ordinal);
    }

    private static string? Child(XElement element, string name) => element.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    private static string? SubscriptionAttribute(XDocument answer, string key) =>
        answer.Descendants().Where(e => e.Name.LocalName == "entry" && Child(e, "key") == key).Select(e => Child(e, "value")).FirstOrDefault();

    private async Task<string> PublishAndReceiveAsync(string topicArn, string queueUrl, string message)
    {
        using var sns = new SnsQueryClient(new SnsQueryClientOptions { ServiceUrl = emulator.Emulator.ServiceUrl, Region = FauxqsEmulator.Region, Credentials = FauxqsEmulator.Credentials });
        await sns.PublishAsync(new SnsPublishRequest(topicArn, message), TestContext.Current.CancellationToken);

        // A long poll returns as soon as the message is there.
        var received = await emulator.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, WaitTimeSeconds = 10 }, TestContext.Current.CancellationToken);
        return Assert.Single(received.Messages).Body;
    }
}
