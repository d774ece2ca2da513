using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Tests;

/// <summary>A real McpServer over SNS+SQS on the emulator: a server topic with the server's queue subscribed, and helpers for clients.</summary>
public sealed class SnsSqsHarness : ServerHarness
{
    private readonly EmulatorFixture _fixture;

    private SnsSqsHarness(EmulatorFixture fixture, string serverTopicArn, SnsSqsSubscription serverQueue, SnsSqsServerTransport server, TestServerState state, CollectingLoggerProvider logs)
        : base(state, logs)
    {
        _fixture = fixture;
        ServerTopicArn = serverTopicArn;
        ServerQueue = serverQueue;
        Server = server;
    }

    public string ServerTopicArn { get; }

    public SnsSqsSubscription ServerQueue { get; }

    public SnsSqsServerTransport Server { get; }

    /// <summary>The server's own queue as one of possibly several workers, where its sessions' messages arrive.</summary>
    public string WorkerQueueUrl => AsyncMcp.Aws.Sqs.WorkerNames.WorkerQueueUrl(ServerQueue.Queue.QueueUrl, Server.WorkerId ?? throw new InvalidOperationException("The server is not a worker."));

    public SnsSqsProvisioner Provisioner => new(_fixture.Sqs, _fixture.Sns);

    /// <summary>Starts a server on a new topic and queue, or on those of <paramref name="predecessor"/> (as a restarted server would).</summary>
    public static async Task<SnsSqsHarness> StartAsync(EmulatorFixture fixture, bool rawDelivery = true, Action<SnsSqsServerTransportOptions>? configure = null, SnsSqsHarness? predecessor = null)
    {
        var provisioner = new SnsSqsProvisioner(fixture.Sqs, fixture.Sns);
        var topic = predecessor?.ServerTopicArn ?? await provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("server-topic"));
        var queue = predecessor?.ServerQueue ?? await provisioner.EnsureSubscribedQueueAsync(topic, FauxqsEmulator.UniqueName("server-q"), new SnsSqsSubscriptionSettings { RawMessageDelivery = rawDelivery });
        var logs = new CollectingLoggerProvider(Microsoft.Extensions.Logging.LogLevel.Information);
        var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs));
        var state = new TestServerState();
        var options = new SnsSqsServerTransportOptions { ServerQueueUrl = queue.Queue.QueueUrl };
        configure?.Invoke(options);
        var server = new SnsSqsServerTransport(fixture.Sqs, fixture.Sns, options, TestMcpServer.CreateOptions(state), loggerFactory);
        await server.StartAsync();
        return new SnsSqsHarness(fixture, topic, queue, server, state, logs);
    }

    /// <summary>A client topic with a queue subscribed to it.</summary>
    public async Task<SnsSqsSubscription> CreateClientEndpointAsync(bool rawDelivery = true)
    {
        var topic = await Provisioner.EnsureTopicAsync(FauxqsEmulator.UniqueName("client-topic"));
        return await Provisioner.EnsureSubscribedQueueAsync(topic, FauxqsEmulator.UniqueName("client-q"), new SnsSqsSubscriptionSettings { RawMessageDelivery = rawDelivery });
    }

    public async Task<McpClient> ConnectAsync(string? protocolVersion, SnsSqsSubscription? endpoint = null, bool rawDelivery = true, McpClientOptions? clientOptions = null, Action<SnsSqsClientTransportOptions>? configure = null, Func<IClientTransport, IClientTransport>? wrapTransport = null)
    {
        clientOptions ??= new McpClientOptions();
        clientOptions.ProtocolVersion = protocolVersion;
        var transport = CreateClientTransport(endpoint ?? await CreateClientEndpointAsync(rawDelivery), configure);
        return Own(await McpClient.CreateAsync(wrapTransport?.Invoke(transport) ?? transport, clientOptions, SqsHarness.LoggerFactory));
    }

    /// <summary>A client transport to this server that names <paramref name="endpoint"/>'s topic and reads its queue.</summary>
    public SnsSqsClientTransport CreateClientTransport(SnsSqsSubscription endpoint, Action<SnsSqsClientTransportOptions>? configure = null)
    {
        var options = new SnsSqsClientTransportOptions
        {
            ServerTopicArn = ServerTopicArn,
            ClientTopicArn = endpoint.TopicArn,
            ClientQueueUrl = endpoint.Queue.QueueUrl,
        };
        configure?.Invoke(options);
        return new SnsSqsClientTransport(_fixture.Sqs, _fixture.Sns, options, SqsHarness.LoggerFactory);
    }

    /// <summary>A peer that publishes exact bodies to the server's topic and reads <paramref name="endpoint"/>'s queue.</summary>
    public RawSnsPeer CreateRawPeer(SnsSqsSubscription endpoint) => new(_fixture.Sqs, _fixture.Sns, ServerTopicArn, endpoint);

    protected override Task StopServerAsync() => Server.DisposeAsync().AsTask();
}
