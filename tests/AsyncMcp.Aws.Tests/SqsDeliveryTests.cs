using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using AsyncMcp.Wire;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>At-least-once processing, duplicates, poison messages: the delivery guarantees, on the emulator.</summary>
public sealed class SqsDeliveryTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stateless_call_whose_server_is_killed_is_answered_once_by_the_next_server()
    {
        var requestQueueUrl = await fixture.CreateQueueAsync("kill-req");
        await using var first = await StartServerProcessAsync(requestQueueUrl);
        var client = await ConnectAsync(requestQueueUrl, protocol: null);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 20, ["delayMs"] = 100 },
            new SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: Timeout).AsTask();
        await started.Task.WaitAsync(Timeout);
        first.Kill();

        await using var second = await StartServerProcessAsync(requestQueueUrl);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(60), Timeout);

        Assert.Equal("done after 20 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.DoesNotContain("EVENT slow-completed", first.Output, StringComparison.Ordinal);
        Assert.Equal(1, Count(second.Output, "EVENT slow-completed"));
        await Eventually(() => CountInQueue(requestQueueUrl) == 0);
        Assert.Equal(1, Count(second.Output, "EVENT slow-started"));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_session_call_whose_server_is_killed_fails_with_session_lost()
    {
        var requestQueueUrl = await fixture.CreateQueueAsync("kill-session");
        await using var first = await StartServerProcessAsync(requestQueueUrl);
        var client = await ConnectAsync(requestQueueUrl, Protocols.November2025);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = client.CallToolAsync(
            "slow",
            new Dictionary<string, object?> { ["steps"] = 50, ["delayMs"] = 100 },
            new SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: Timeout).AsTask();
        await started.Task.WaitAsync(Timeout);
        first.Kill();
        await using var second = await StartServerProcessAsync(requestQueueUrl);

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => call.WaitAsync(TimeSpan.FromSeconds(60), Timeout));

        Assert.Contains("was lost", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("EVENT slow-started", second.Output, StringComparison.Ordinal);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_copy_of_a_request_in_flight_is_not_run_twice()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var transport = new RecordingClientTransport(harness.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = harness.RequestQueueUrl, ResponseQueueUrl = await harness.CreateResponseQueueAsync() })
        {
            Duplicate = m => m.Attributes.GetValueOrDefault(WireAttributes.Method) == "tools/call",
        };
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: Timeout);

        var result = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 5, ["delayMs"] = 100 }, cancellationToken: Timeout);

        Assert.Equal("done after 5 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("the duplicate is not run again", StringComparison.Ordinal) || e.Message.Contains("not run again", StringComparison.Ordinal)));
        Assert.Equal(1, harness.State.SlowStarted);
        await Eventually(() => CountInQueue(harness.RequestQueueUrl) == 0);
        Assert.Equal(1, harness.State.SlowStarted);
    }

    [Fact]
    public async Task A_copy_of_an_answered_request_is_answered_again_and_not_run_again()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var transport = new RecordingClientTransport(harness.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = harness.RequestQueueUrl, ResponseQueueUrl = await harness.CreateResponseQueueAsync() });
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = Protocols.November2025 }, cancellationToken: Timeout);
        var result = await client.CallToolAsync("slow", new Dictionary<string, object?> { ["steps"] = 1, ["delayMs"] = 10 }, cancellationToken: Timeout);
        Assert.Equal("done after 1 steps", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);

        var original = transport.Sent.Single(m => m.Attributes.GetValueOrDefault(WireAttributes.Method) == "tools/call");
        await transport.ResendAsync(original);

        await Eventually(() => harness.Logs.Entries.Any(e => e.Message.Contains("the answer is sent again", StringComparison.Ordinal)));
        Assert.Equal(1, harness.State.SlowStarted);
        // The client ignores the repeated answer and keeps working.
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still fine" }, cancellationToken: Timeout);
        Assert.Equal("Echo: still fine", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_lands_in_the_dead_letter_queue_intact_while_others_are_served()
    {
        var provisioner = new SqsQueueProvisioner(fixture.Sqs);
        var queue = await provisioner.EnsureQueueAsync(FauxqsEmulator.UniqueName("poison"), new SqsQueueSettings { MaxReceiveCount = 2, VisibilityTimeout = TimeSpan.FromSeconds(1) });
        var requestQueueUrl = queue.QueueUrl;
        await using var server = new SqsServerTransport(
            fixture.Sqs,
            new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, VisibilityTimeout = TimeSpan.FromSeconds(1), WaitTime = TimeSpan.FromSeconds(1) },
            TestMcpServer.CreateOptions(),
            SqsHarness.LoggerFactory);
        await server.StartAsync(Timeout);

        // Its answer can never be delivered: the reply queue does not exist.
        var body = RawSqsPeer.InitializeBody(1, fixture.Emulator.ServiceUrl + "/000000000000/nobody-listens");
        await fixture.Sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = requestQueueUrl,
            MessageBody = body,
            MessageAttributes = new()
            {
                ["MessageType"] = new() { DataType = "String", StringValue = "jsonrpc" },
                ["ClientId"] = new() { DataType = "String", StringValue = "poison-client" },
                ["Tenant"] = new() { DataType = "String", StringValue = "acme" },
            },
        }, Timeout);

        // Meanwhile another client is served.
        var responseQueueUrl = await fixture.CreateQueueAsync("poison-ok");
        await using (var client = await McpClient.CreateAsync(
            new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }),
            new McpClientOptions { ProtocolVersion = Protocols.November2025 },
            cancellationToken: Timeout))
        {
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "ok" }, cancellationToken: Timeout);
            Assert.Equal("Echo: ok", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
        }

        var dead = await ReceiveOneAsync(queue.DeadLetterQueueUrl!);
        Assert.Equal(body, dead.Body);
        Assert.Equal("acme", dead.MessageAttributes["Tenant"].StringValue);
        Assert.Equal("poison-client", dead.MessageAttributes["ClientId"].StringValue);
        // The initialize was delivered three times yet opened one session (the other client's closed on dispose).
        await Eventually(() => server.Dispatcher!.SessionCount == 1);
    }

    [Fact]
    public async Task Input_nobody_can_be_told_about_goes_to_the_dead_letter_queue_when_there_is_one()
    {
        var queue = await new SqsQueueProvisioner(fixture.Sqs).EnsureQueueAsync(FauxqsEmulator.UniqueName("junk"), new SqsQueueSettings { MaxReceiveCount = 2 });
        await using var server = new SqsServerTransport(
            fixture.Sqs,
            new SqsServerTransportOptions { RequestQueueUrl = queue.QueueUrl, WaitTime = TimeSpan.FromSeconds(1) },
            TestMcpServer.CreateOptions(),
            SqsHarness.LoggerFactory);
        await server.StartAsync(Timeout);

        await fixture.Sqs.SendMessageAsync(queue.QueueUrl, "this is not JSON", Timeout);

        var dead = await ReceiveOneAsync(queue.DeadLetterQueueUrl!);
        Assert.Equal("this is not JSON", dead.Body);
    }

    private async Task<Message> ReceiveOneAsync(string queueUrl)
    {
        Message? found = null;
        await EventuallyAsync(
            async () =>
            {
                var received = await fixture.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, WaitTimeSeconds = 2, MessageAttributeNames = ["All"] }, Timeout);
                found = received.Messages is [var message, ..] ? message : null;
                return found is not null;
            },
            what: $"A message on {queueUrl}");
        return found!;
    }

    private async Task<ChildProcess> StartServerProcessAsync(string requestQueueUrl)
    {
        var host = ChildProcess.Start(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "AsyncMcp.TestServerHost.dll"), "--service-url", fixture.Emulator.ServiceUrl, "--queue-url", requestQueueUrl, "--visibility-seconds", "2", "--wait-seconds", "1"],
            AppContext.BaseDirectory);
        await host.WaitForLineAsync(l => l.StartsWith("READY", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return host;
    }

    private async Task<McpClient> ConnectAsync(string requestQueueUrl, string? protocol)
    {
        var responseQueueUrl = await fixture.CreateQueueAsync("kill-resp");
        return await McpClient.CreateAsync(
            new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }),
            new McpClientOptions { ProtocolVersion = protocol },
            SqsHarness.LoggerFactory,
            Timeout);
    }

    private int CountInQueue(string queueUrl)
    {
        var attributes = fixture.Sqs.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }).GetAwaiter().GetResult();
        return int.Parse(attributes.Attributes["ApproximateNumberOfMessages"], System.Globalization.CultureInfo.InvariantCulture) +
            int.Parse(attributes.Attributes["ApproximateNumberOfMessagesNotVisible"], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int Count(string text, string what) => text.Split('\n').Count(l => l.Trim() == what);
}
