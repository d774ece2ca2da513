using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Tests;

/// <summary>A real <see cref="McpServer"/> served over SQS on the emulator, with helpers to connect real clients.</summary>
public sealed class SqsHarness : ServerHarness
{
    private readonly EmulatorFixture _fixture;

    private SqsHarness(EmulatorFixture fixture, string requestQueueUrl, SqsServerTransport server, TestServerState state, CollectingLoggerProvider logs)
        : base(state, logs)
    {
        _fixture = fixture;
        RequestQueueUrl = requestQueueUrl;
        Server = server;
    }

    public string RequestQueueUrl { get; }

    public SqsServerTransport Server { get; }

    /// <summary>The server's own queue as one of possibly several workers, where its sessions' messages arrive.</summary>
    public string WorkerQueueUrl => AsyncMcp.Aws.Sqs.WorkerNames.WorkerQueueUrl(RequestQueueUrl, Server.WorkerId ?? throw new InvalidOperationException("The server is not a worker."));

    public IAmazonSQS Sqs => _fixture.Sqs;

    public static ILoggerFactory LoggerFactory { get; } = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

    /// <summary>
    /// Starts a server on a new request queue (made with <paramref name="requestQueue"/>'s settings when given), or on
    /// <paramref name="requestQueueUrl"/> (as a restarted server would).
    /// </summary>
    public static async Task<SqsHarness> StartAsync(EmulatorFixture fixture, Action<SqsServerTransportOptions>? configure = null, McpServerOptions? serverOptions = null, SqsQueueSettings? requestQueue = null, string? requestQueueUrl = null)
    {
        var logs = new CollectingLoggerProvider(LogLevel.Information);
        var serverLoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(logs));
        requestQueueUrl ??= requestQueue is null
            ? await fixture.CreateQueueAsync("req")
            : (await new SqsQueueProvisioner(fixture.Sqs).EnsureQueueAsync(FauxqsEmulator.UniqueName("req"), requestQueue)).QueueUrl;
        var state = new TestServerState();
        var options = new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, WaitTime = TimeSpan.FromSeconds(20) };
        configure?.Invoke(options);
        var server = new SqsServerTransport(fixture.Sqs, options, serverOptions ?? TestMcpServer.CreateOptions(state), serverLoggerFactory);
        await server.StartAsync();
        return new SqsHarness(fixture, requestQueueUrl, server, state, logs);
    }

    public RawSqsPeer CreateRawPeer(string responseQueueUrl) => new(Sqs, RequestQueueUrl, responseQueueUrl);

    public Task<string> CreateResponseQueueAsync(Dictionary<string, string>? attributes = null) => _fixture.CreateQueueAsync("resp", attributes);

    public async Task<McpClient> ConnectAsync(string? protocolVersion, string? responseQueueUrl = null, Action<SqsClientTransportOptions>? configure = null, McpClientOptions? clientOptions = null, Func<IClientTransport, IClientTransport>? wrapTransport = null)
    {
        clientOptions ??= new McpClientOptions();
        clientOptions.ProtocolVersion = protocolVersion;
        var transport = CreateClientTransport(responseQueueUrl ?? await CreateResponseQueueAsync(), configure);
        return Own(await McpClient.CreateAsync(wrapTransport?.Invoke(transport) ?? transport, clientOptions, LoggerFactory));
    }

    /// <summary>A client transport to this server that reads its replies from <paramref name="responseQueueUrl"/>.</summary>
    public SqsClientTransport CreateClientTransport(string responseQueueUrl, Action<SqsClientTransportOptions>? configure = null)
    {
        var options = new SqsClientTransportOptions { ServerRequestQueueUrl = RequestQueueUrl, ResponseQueueUrl = responseQueueUrl };
        configure?.Invoke(options);
        return new SqsClientTransport(Sqs, options, LoggerFactory);
    }

    protected override Task StopServerAsync() => Server.DisposeAsync().AsTask();
}
