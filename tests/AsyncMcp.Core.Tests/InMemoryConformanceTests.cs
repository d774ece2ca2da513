using System.Text.Json.Nodes;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Testing;
using AsyncMcp.Testing.Conformance;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests;

/// <summary>The conformance suite over the core alone: an <see cref="McpQueueServer"/> and the client session transport on an in-memory broker.</summary>
public sealed class InMemoryConformanceTests(InMemoryHarness harness) : TransportConformanceTests<InMemoryHarness>(harness);

/// <summary>Starts <see cref="McpQueueServer"/>s on an <see cref="InMemoryBroker"/>.</summary>
public sealed class InMemoryHarness : TransportHarness
{
    public override TransportTraits Traits { get; } = new() { Name = "in-memory", SharesReplyAddresses = true };

    public override Task<ServerUnderTest> StartServerAsync(ServerSettings settings) => Task.FromResult<ServerUnderTest>(new InMemoryServer(settings));
}

/// <summary>An <see cref="McpQueueServer"/> reading one in-memory queue and answering on the broker.</summary>
internal sealed class InMemoryServer : ServerUnderTest
{
    private const string ServerAddress = "memory://server";

    /// <summary>Where requests carry their reply address in memory; any non-empty address will do.</summary>
    internal static readonly ReplyAddressConvention Convention = new("replyTo", null);

    private readonly InMemoryBroker _broker;
    private readonly McpQueueServer _server;
    private readonly Lazy<ReplyDemultiplexer> _shared;

    /// <summary>Starts a server on <paramref name="broker"/>'s server queue, or on a broker of its own.</summary>
    public InMemoryServer(ServerSettings settings, InMemoryBroker? broker = null)
        : this(new TestServerState(), new CollectingLoggerProvider(LogLevel.Information), settings, broker ?? new InMemoryBroker())
    {
    }

    private InMemoryServer(TestServerState state, CollectingLoggerProvider logs, ServerSettings settings, InMemoryBroker broker)
        : base(state, logs)
    {
        _broker = broker;
        var options = new ServerOptions();
        settings.ApplyTo(options);
        var loggerFactory = logs.ToLoggerFactory();
        _server = new McpQueueServer(_broker.Queue(ServerAddress), _broker, Convention, options, 10, TestMcpServer.CreateOptions(state), deadLetters: false, "memory", loggerFactory);
        _server.Start();
        _shared = new(() =>
        {
            var demultiplexer = new ReplyDemultiplexer(_broker.Queue("memory://shared-replies"), 10);
            demultiplexer.Start();
            return Own(demultiplexer);
        });
    }

    public override int? SessionCount => _server.Dispatcher.SessionCount;

    public override int? InFlightRequests => _server.Dispatcher.PendingRequestCount;

    public override bool HasSession(string sessionId) => _server.Dispatcher.HasSession(sessionId);

    public override Task<ServerUnderTest> StartSuccessorAsync() => Task.FromResult<ServerUnderTest>(new InMemoryServer(new ServerSettings(), _broker));

    public override Task<int?> RequestsWaitingAsync() => Task.FromResult<int?>(_broker.Queue(ServerAddress).VisibleCount);

    public override Task<int?> RequestsUnsettledAsync() => Task.FromResult<int?>(_broker.Queue(ServerAddress).UnsettledCount);

    protected override Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress) =>
        Task.FromResult<IClientTransport>(new InMemoryClientTransport(_broker, shareReplyAddress ? _shared.Value : null));

    protected override Task<RawPeer> CreateRawPeerCoreAsync() => Task.FromResult<RawPeer>(new InMemoryRawPeer(_broker));

    protected override Task StopServerAsync() => _server.DisposeAsync().AsTask();

    private sealed class ServerOptions : AsyncMcpServerTransportOptions;

    private sealed class ClientOptions : AsyncMcpClientTransportOptions;

    /// <summary>Connects the core's client session transport over the broker, on a reply queue of its own or a shared one.</summary>
    private sealed class InMemoryClientTransport(InMemoryBroker broker, ReplyDemultiplexer? shared) : IClientTransport
    {
        public string Name => "in-memory";

        public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
        {
            var replyAddress = shared?.Description ?? "memory://replies-" + Guid.NewGuid().ToString("N");
            var transport = new AsyncMcpClientSessionTransport(
                Name,
                (IReplyFeed?)shared?.Subscribe() ?? new PolledReplyFeed(broker.Queue(replyAddress), 10, isFatal: null, loggerFactory: null),
                broker,
                ServerAddress,
                replyAddress,
                Convention,
                new ClientOptions(),
                loggerFactory: null,
                "memory");
            transport.Start();
            return Task.FromResult<ITransport>(transport);
        }
    }

    /// <summary>Puts exact bodies and attributes on the server's queue and reads its own reply queue.</summary>
    private sealed class InMemoryRawPeer(InMemoryBroker broker) : RawPeer
    {
        private readonly string _replyAddress = "memory://raw-" + Guid.NewGuid().ToString("N");
        private readonly string _clientId = "raw-" + Guid.NewGuid().ToString("N")[..8];
        private readonly Queue<IInboundMessage> _received = new();

        public override string ReplyAddressKey => Convention.MetaKey;

        public override string ReplyAddress => _replyAddress;

        public override async Task<string> OpenSessionAsync()
        {
            await SendAsync(Initialize(1));
            var reply = await ReceiveMessageAsync(m => (int?)JsonNode.Parse(m.Body)?["id"] == 1, null);
            var sessionId = reply.Attributes[WireAttributes.SessionId];
            await SendAsync(new RawRequest("""{"jsonrpc":"2.0","method":"notifications/initialized"}""") { SessionId = sessionId });
            return sessionId;
        }

        public override Task<RawAnswer> SendAsync(RawRequest request)
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [WireAttributes.MessageType] = WireAttributes.JsonRpcMessageType,
                [WireAttributes.ClientId] = _clientId,
            };
            if (request.SessionId is { } sessionId)
            {
                attributes[WireAttributes.SessionId] = sessionId;
            }

            if (request.ProtocolVersion is { } version)
            {
                attributes[WireAttributes.ProtocolVersion] = version;
            }

            broker.Queue(ServerAddress).Enqueue(request.Body, attributes);
            return Task.FromResult(RawAnswer.None);
        }

        public override async Task<JsonObject> ReceiveAsync(Func<JsonObject, bool> match, TimeSpan? deadline = null) =>
            JsonNode.Parse((await ReceiveMessageAsync(m => JsonNode.Parse(m.Body) is JsonObject body && match(body), deadline)).Body)!.AsObject();

        private async Task<IInboundMessage> ReceiveMessageAsync(Func<IInboundMessage, bool> match, TimeSpan? deadline)
        {
            using var timeout = Waiting.Within(deadline ?? Waiting.DefaultDeadline);
            while (true)
            {
                // Replies that came in one batch with the one a call returned are kept for the next call.
                while (_received.TryDequeue(out var kept))
                {
                    if (match(kept))
                    {
                        return kept;
                    }
                }

                try
                {
                    foreach (var message in await broker.Queue(_replyAddress).ReceiveAsync(10, timeout.Token))
                    {
                        _received.Enqueue(message);
                    }
                }
                catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
                {
                    throw new Xunit.Sdk.XunitException($"No matching reply arrived at {_replyAddress} in time.");
                }
            }
        }
    }
}
