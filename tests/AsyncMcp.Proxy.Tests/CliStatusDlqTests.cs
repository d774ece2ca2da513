using System.Text.Json.Nodes;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <c>asyncmcp status</c> and <c>asyncmcp dlq</c> against real queues on the emulator: a request its servers kept failing
/// on is dead-lettered, shown by status, listed with its method, id and receive count, moved back (the emulator has no
/// StartMessageMoveTask, so one by one), and then answered by a server.
/// </summary>
public sealed class CliStatusDlqTests(BridgeEmulator emulator)
{
    private readonly CliProcess _cli = new(emulator);

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_poison_request_is_dead_lettered_shown_listed_redriven_and_then_answered()
    {
        var name = FauxqsEmulator.UniqueName("dlq-req");
        var queue = await new SqsQueueProvisioner(emulator.Sqs).EnsureQueueAsync(name, new SqsQueueSettings { MaxReceiveCount = 1, VisibilityTimeout = TimeSpan.FromSeconds(30) }, Timeout);
        var responseQueueUrl = await emulator.CreateQueueAsync("dlq-resp");
        await emulator.Sqs.SendMessageAsync(
            new SendMessageRequest
            {
                QueueUrl = queue.QueueUrl,
                MessageBody = """{"jsonrpc":"2.0","id":41,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"poisoned","version":"1"},"_meta":{"responseQueueUrl":"URL"}}}""".Replace("URL", responseQueueUrl, StringComparison.Ordinal),
                MessageAttributes = new() { ["Method"] = new() { DataType = "String", StringValue = "initialize" }, ["RequestId"] = new() { DataType = "String", StringValue = "41" }, ["ClientId"] = new() { DataType = "String", StringValue = "dlq-test" } },
            },
            Timeout);

        // A server that took it and died: received once and handed back; the next receive moves it to the dead-letter queue.
        var taken = await emulator.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queue.QueueUrl, WaitTimeSeconds = 5 }, Timeout);
        await emulator.Sqs.ChangeMessageVisibilityAsync(queue.QueueUrl, Assert.Single(taken.Messages).ReceiptHandle, 0, Timeout);
        await EventuallyAsync(async () =>
        {
            var again = await emulator.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queue.QueueUrl, WaitTimeSeconds = 1, VisibilityTimeout = 0 }, Timeout);
            return again.Messages is not { Count: > 0 } && await DeadLettersAsync(queue.DeadLetterQueueUrl!) == 1;
        }, what: "the request on the dead-letter queue");

        var status = await RunJsonAsync("status", "--request-queue", name, "--json");
        var row = Assert.Single(status["queues"]!.AsArray())!;
        Assert.Equal(queue.QueueUrl, (string?)row["url"]);
        Assert.Equal(0, (int?)row["visible"]);
        Assert.Equal(1, (int?)row["deadLetters"]);
        Assert.True((double?)row["oldestDeadLetterAgeSeconds"] >= 0);

        var listed = await RunJsonAsync("dlq", "list", "--queue", name, "--json");
        var letter = Assert.Single(listed["messages"]!.AsArray())!;
        Assert.Equal("initialize", (string?)letter["method"]);
        Assert.Equal("41", (string?)letter["id"]);
        Assert.True((int?)letter["receiveCount"] >= 1);
        Assert.NotNull((string?)letter["firstReceived"]);
        Assert.Null(letter["body"]);
        var withBody = await RunJsonAsync("dlq", "list", "--queue", queue.QueueUrl, "--json", "--show-body");
        Assert.Contains("poisoned", (string?)Assert.Single(withBody["messages"]!.AsArray())!["body"], StringComparison.Ordinal);

        var (unknownExit, unknownOutput) = await _cli.RunAsync(["dlq", "redrive", "--queue", name, "--message-id", "no-such-message"]);
        Assert.True(unknownExit == 1, unknownOutput);
        Assert.Contains("Not found: no-such-message", unknownOutput, StringComparison.Ordinal);

        var redriven = await RunJsonAsync("dlq", "redrive", "--queue", name, "--message-id", (string)letter["messageId"]!, "--json");
        Assert.Equal((string?)letter["messageId"], (string?)Assert.Single(redriven["moved"]!.AsArray()));
        Assert.Equal(0, await DeadLettersAsync(queue.DeadLetterQueueUrl!));

        // Back on its queue, the request is answered by a server that works.
        await using var server = new SqsServerTransport(emulator.Sqs, new SqsServerTransportOptions { RequestQueueUrl = queue.QueueUrl, WaitTime = TimeSpan.FromSeconds(1) }, TestMcpServer.CreateOptions(new TestServerState()), NullLoggerFactory.Instance);
        await server.StartAsync(Timeout);
        var reply = await RawReplyAsync(responseQueueUrl);
        Assert.Equal(41, (int?)reply["id"]);
        Assert.NotNull(reply["result"]);

        status = await RunJsonAsync("status", "--request-queue", queue.QueueUrl, "--json");
        Assert.Equal(0, (int?)status["queues"]![0]!["deadLetters"]);
    }

    [Fact]
    public async Task Redrive_all_moves_every_dead_letter_back_and_says_how()
    {
        var name = FauxqsEmulator.UniqueName("dlq-all");
        var queue = await new SqsQueueProvisioner(emulator.Sqs).EnsureQueueAsync(name, new SqsQueueSettings { MaxReceiveCount = 1 }, Timeout);
        for (var i = 0; i < 3; i++)
        {
            await emulator.Sqs.SendMessageAsync(queue.DeadLetterQueueUrl, $$"""{"jsonrpc":"2.0","id":{{i}},"method":"tools/call"}""", Timeout);
        }

        var (exit, output) = await _cli.RunAsync(["dlq", "redrive", "--request-queue", name, "--all"]);
        Assert.True(exit == 0, output);
        Assert.Contains("Moved 3 dead letters back", output, StringComparison.Ordinal);
        Assert.Contains("no StartMessageMoveTask", output, StringComparison.Ordinal);
        Assert.Equal(0, await DeadLettersAsync(queue.DeadLetterQueueUrl!));
        Assert.Equal(3, (await emulator.Sqs.GetQueueAttributesAsync(queue.QueueUrl, ["ApproximateNumberOfMessages"], Timeout)).ApproximateNumberOfMessages);
    }

    [Fact]
    public async Task Status_and_dlq_refuse_what_they_cannot_read_with_one_clear_line()
    {
        var (exit, output) = await _cli.RunAsync(["status"]);
        Assert.True(exit == 2, output);
        Assert.Contains("name at least one queue", output, StringComparison.Ordinal);

        (exit, output) = await _cli.RunAsync(["status", "--request-queue", FauxqsEmulator.UniqueName("missing")]);
        Assert.True(exit == 1, output);
        Assert.Contains("does not exist", output, StringComparison.Ordinal);

        var plain = await emulator.CreateQueueAsync("no-dlq");
        (exit, output) = await _cli.RunAsync(["dlq", "list", "--queue", plain]);
        Assert.True(exit == 1, output);
        Assert.Contains("has no dead-letter queue", output, StringComparison.Ordinal);

        (exit, output) = await _cli.RunAsync(["dlq", "redrive", "--queue", plain]);
        Assert.True(exit == 2, output);
        Assert.Contains("--all, or one or more --message-id", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_watch_follows_the_queue_as_it_changes_until_stopped()
    {
        var name = FauxqsEmulator.UniqueName("watch-req");
        var queue = await new SqsQueueProvisioner(emulator.Sqs).EnsureQueueAsync(name, new SqsQueueSettings { MaxReceiveCount = 3 }, Timeout);
        var environment = _cli.Environment();
        await using var watch = ChildProcess.Start("dotnet", [CliProcess.Cli, "status", "--request-queue", name, "--watch", "--json", "--interval", "0.5"], AppContext.BaseDirectory, environment);
        await watch.WaitForLineAsync(line => line.Contains("\"visible\":0", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await emulator.Sqs.SendMessageAsync(queue.QueueUrl, "{}", Timeout);
        await emulator.Sqs.SendMessageAsync(queue.DeadLetterQueueUrl, "{}", Timeout);
        var line = await watch.WaitForLineAsync(line => line.Contains("\"visible\":1", StringComparison.Ordinal) && line.Contains("\"deadLetters\":1", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Equal(name, (string?)JsonNode.Parse(line)!["queues"]![0]!["name"]);
    }

    private async Task<JsonNode> RunJsonAsync(params string[] arguments)
    {
        var (exit, output, error) = await _cli.RunSeparatedAsync(arguments);
        Assert.True(exit == 0, $"{string.Join(' ', arguments)}: exit {exit}\n{output}\n{error}");
        return JsonNode.Parse(output)!;
    }

    private async Task<int> DeadLettersAsync(string url) =>
        (await emulator.Sqs.GetQueueAttributesAsync(url, ["ApproximateNumberOfMessages"], Timeout)).ApproximateNumberOfMessages;

    private async Task<JsonNode> RawReplyAsync(string responseQueueUrl)
    {
        using var within = Within(TimeSpan.FromSeconds(60));
        while (true)
        {
            var response = await emulator.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = responseQueueUrl, WaitTimeSeconds = 1 }, within.Token);
            if (response.Messages is { Count: > 0 } messages)
            {
                return JsonNode.Parse(messages[0].Body)!;
            }
        }
    }
}
