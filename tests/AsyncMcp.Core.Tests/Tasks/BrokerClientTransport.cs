using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests.Tasks;

/// <summary>The core's client session transport over the in-memory broker, with a configured client id (the owner of its tasks).</summary>
internal sealed class BrokerClientTransport(InMemoryBroker broker, string serverAddress, ReplyAddressConvention convention, string clientId) : IClientTransport
{
    public string Name => "in-memory";

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var replyAddress = "memory://replies-" + Guid.NewGuid().ToString("N");
        var transport = new AsyncMcpClientSessionTransport(
            Name,
            new PolledReplyFeed(broker.Queue(replyAddress), 10, isFatal: null, loggerFactory: null),
            broker,
            serverAddress,
            replyAddress,
            convention,
            new ClientOptions { ClientId = clientId },
            loggerFactory: null,
            "memory");
        transport.Start();
        return Task.FromResult<ITransport>(transport);
    }

    private sealed class ClientOptions : AsyncMcpClientTransportOptions;
}
