using System.Text.Json;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using AsyncMcp.Wire;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Our SQS and SNS+SQS client transports, with the SDK's <see cref="McpClient"/>, against the wire-level fake of
/// asyncmcp's Python servers, release 0.2.1 and the main branch, with default settings and with the initialize-only
/// setting: each connects, lists and calls tools with progress, names on each message a revision the server accepts,
/// and sends the server nothing it would warn about.
/// </summary>
public sealed class AsyncmcpServerCompatibilityTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "main", "sqs", "default" },
        { "0.2.1", "sqs", "default" },
        { "main", "sns-sqs", "default" },
        { "0.2.1", "sns-sqs", "default" },
        { "main", "sqs", "initialize-only" },
        { "0.2.1", "sqs", "initialize-only" },
        { "main", "sns-sqs", "initialize-only" },
        { "0.2.1", "sns-sqs", "initialize-2025-11-25" },
        { "main", "sqs", "initialize-2025-11-25" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Our_client_connects_lists_and_calls_tools_with_progress(string release, string transport, string mode)
    {
        await using var setup = await Setup.StartAsync(fixture, release, transport);
        var progress = new List<ProgressNotificationParams>();
        var threeSteps = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientOptions = new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.ProgressNotification, (notification, _) =>
                    {
                        lock (progress)
                        {
                            progress.Add(JsonSerializer.Deserialize<ProgressNotificationParams>(notification.Params, ModelContextProtocol.McpJsonUtilities.DefaultOptions)!);
                            if (progress.Count == 3)
                            {
                                threeSteps.TrySetResult();
                            }
                        }

                        return ValueTask.CompletedTask;
                    }),
                ],
            },
        };

        var client = await McpClient.CreateAsync(setup.CreateTransport(mode), clientOptions, SqsHarness.LoggerFactory, Timeout).WaitAsync(TimeSpan.FromSeconds(60), Timeout);
        try
        {
            // A Python MCP server answers initialize with its own latest revision, which the client accepts.
            Assert.Equal("2025-06-18", client.NegotiatedProtocolVersion);
            Assert.Equal("asyncmcp-python-fake", client.ServerInfo?.Name);
            var tools = await client.ListToolsAsync(cancellationToken: Timeout);
            Assert.Equal(["count", "echo"], tools.Select(t => t.Name).Order());
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: Timeout);
            Assert.Equal("python echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
            var counted = await client.CallToolAsync("count", new Dictionary<string, object?> { ["steps"] = 3 }, new Progress<ModelContextProtocol.ProgressNotificationValue>(_ => { }), cancellationToken: Timeout);
            Assert.Equal("counted to 3", Assert.IsType<TextContentBlock>(Assert.Single(counted.Content)).Text);
            await threeSteps.Task.WaitAsync(TimeSpan.FromSeconds(30), Timeout);
            lock (progress)
            {
                Assert.Equal([1d, 2d, 3d], progress.Select(p => (double)p.Progress.Progress).Order());
            }
        }
        finally
        {
            await client.DisposeAsync();
        }

        // Anything sent by the client's disposal is on the queue before this, and the fake takes messages in order.
        await setup.SendSentinelAsync();
        await setup.Fake.WaitForReceivedAsync(m => (string?)m["method"] == "notifications/test-sentinel", TimeSpan.FromSeconds(30));

        var received = setup.Fake.Received.Where(m => (string?)m["method"] != "notifications/test-sentinel").ToList();
        Assert.Empty(setup.Fake.Warnings);
        Assert.DoesNotContain(received, m => (string?)m["method"] == WireMethods.SessionClose);

        var initialize = Assert.Single(received, m => (string?)m["method"] == RequestMethods.Initialize);
        Assert.Null(initialize["attributes"]!["ProtocolVersion"]);
        Assert.Equal("2025-11-25", (string?)initialize["params"]!["protocolVersion"]);
        var (metaKey, legacyKey) = transport == "sqs" ? ("responseQueueUrl", "response_queue_url") : ("clientTopicArn", "client_topic_arn");
        Assert.Equal(setup.ReplyAddress, (string?)initialize["params"]!["_meta"]![metaKey]);
        Assert.Equal(setup.ReplyAddress, (string?)initialize["params"]![legacyKey]);
        Assert.StartsWith("session ", (string?)initialize["outcome"], StringComparison.Ordinal);

        var discover = received.Where(m => (string?)m["method"] == RequestMethods.ServerDiscover).ToList();
        if (mode == "default")
        {
            // The probe names its own revision, which this server does not know: it is dropped, and its timeout is the cost.
            Assert.Equal("dropped-protocol-version", (string?)Assert.Single(discover)["outcome"]);
        }
        else
        {
            Assert.Empty(discover);
        }

        foreach (var message in received.Where(m => (string?)m["outcome"] is "answered" or "notification"))
        {
            Assert.Equal("2025-06-18", (string?)message["attributes"]!["ProtocolVersion"]);
        }

        Assert.Contains(received, m => (string?)m["method"] == NotificationMethods.InitializedNotification && (string?)m["outcome"] == "notification");
        Assert.Equal(3, received.Count(m => (string?)m["outcome"] == "answered"));
    }

    /// <summary>The fake with its queues (and topics) on the emulator, and our client transport for it.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly EmulatorFixture _fixture;
        private readonly string _serverAddress;
        private readonly string _clientQueueUrl;

        private Setup(EmulatorFixture fixture, AsyncmcpServerFake fake, string serverAddress, string replyAddress, string clientQueueUrl)
        {
            _fixture = fixture;
            Fake = fake;
            _serverAddress = serverAddress;
            ReplyAddress = replyAddress;
            _clientQueueUrl = clientQueueUrl;
        }

        public AsyncmcpServerFake Fake { get; }

        /// <summary>The response queue URL (sqs) or client topic ARN (sns-sqs).</summary>
        public string ReplyAddress { get; }

        public static async Task<Setup> StartAsync(EmulatorFixture fixture, string release, string transport)
        {
            if (transport == "sqs")
            {
                var requestQueueUrl = await fixture.CreateQueueAsync("py-requests");
                var responseQueueUrl = await fixture.CreateQueueAsync("py-responses");
                var sqsFake = await AsyncmcpServerFake.StartAsync(fixture.Emulator.ServiceUrl, release, transport, requestQueueUrl);
                return new Setup(fixture, sqsFake, requestQueueUrl, responseQueueUrl, responseQueueUrl);
            }

            // Enveloped delivery to the server for one release, raw for the other: the fake reads both, as asyncmcp does.
            var provisioner = new SnsSqsProvisioner(fixture.Sqs, fixture.Sns);
            var serverTopic = await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("py-server-topic"));
            var serverQueue = await provisioner.EnsureSubscribedQueueAsync(serverTopic, FauxqsEmulator.UniqueName("py-server-q"), new SnsSqsSubscriptionSettings { RawMessageDelivery = release == "main" });
            var clientTopic = await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("py-client-topic"));
            var clientQueue = await provisioner.EnsureSubscribedQueueAsync(clientTopic, FauxqsEmulator.UniqueName("py-client-q"), new SnsSqsSubscriptionSettings { RawMessageDelivery = release != "main" });
            var snsFake = await AsyncmcpServerFake.StartAsync(fixture.Emulator.ServiceUrl, release, transport, serverQueue.Queue.QueueUrl);
            return new Setup(fixture, snsFake, serverTopic, clientTopic, clientQueue.Queue.QueueUrl);
        }

        public IClientTransport CreateTransport(string mode)
        {
            void Configure(SqsBackedClientTransportOptions options)
            {
                options.InitializeOnlyServer = mode != "default";
                options.InitializeProtocolVersion = mode == "initialize-2025-11-25" ? "2025-11-25" : null;
            }

            if (Fake.Transport == "sqs")
            {
                var sqsOptions = new SqsClientTransportOptions { ServerRequestQueueUrl = _serverAddress, ResponseQueueUrl = ReplyAddress };
                Configure(sqsOptions);
                return new SqsClientTransport(_fixture.Sqs, sqsOptions, SqsHarness.LoggerFactory);
            }

            var snsOptions = new SnsSqsClientTransportOptions { ServerTopicArn = _serverAddress, ClientTopicArn = ReplyAddress, ClientQueueUrl = _clientQueueUrl };
            Configure(snsOptions);
            return new SnsSqsClientTransport(_fixture.Sqs, _fixture.Sns, snsOptions, SqsHarness.LoggerFactory);
        }

        /// <summary>A notification without a session, which the fake reports and drops.</summary>
        public async Task SendSentinelAsync()
        {
            const string Body = """{"jsonrpc":"2.0","method":"notifications/test-sentinel"}""";
            if (Fake.Transport == "sqs")
            {
                await _fixture.Sqs.SendMessageAsync(_serverAddress, Body, Timeout);
            }
            else
            {
                await _fixture.Sns.PublishAsync(new Sns.SnsPublishRequest(_serverAddress, Body), Timeout);
            }
        }

        public ValueTask DisposeAsync() => Fake.DisposeAsync();
    }
}
