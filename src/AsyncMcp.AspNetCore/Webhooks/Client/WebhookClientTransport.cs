using System.Net;
using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>
/// A client transport for <see cref="McpClient.CreateAsync"/> that POSTs requests to a webhook server and receives
/// every reply as a POST to its own webhook: on a listener of its own (by default on a free loopback port) or on a
/// <see cref="WebhookReceiver"/> mounted in an existing app. It names its webhook in <c>initialize</c> itself, signs
/// what it sends and verifies what it receives.
/// </summary>
/// <example>
/// <code>
/// var transport = new WebhookClientTransport(new WebhookClientTransportOptions
/// {
///     ServerUrl = new Uri("https://mcp.example.com/mcp/request"),
///     Security = { Secret = sharedSecret },
/// });
/// await using var client = await McpClient.CreateAsync(transport);
/// </code>
/// </example>
public sealed class WebhookClientTransport : IClientTransport
{
    private readonly WebhookClientTransportOptions _options;
    private readonly ILoggerFactory? _loggerFactory;

    /// <summary>Creates the transport.</summary>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public WebhookClientTransport(WebhookClientTransportOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory;
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <inheritdoc />
    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var signer = _options.Security.Validate(nameof(WebhookClientTransportOptions));
        var resources = new OwnedResources();
        try
        {
            var (_, replyAddress, replies) = await WebhookReplies.OpenAsync(_options.Receiver, _options.WebhookUrl, _options.ListenUrl, _options.WebhookPath, _options.Security, _options.MaxDeliveryBytes, _options.AcceptBatchedDeliveries, resources, _loggerFactory, cancellationToken).ConfigureAwait(false);

            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = Timeout.InfiniteTimeSpan };
            resources.Add(http);
            // X-Protocol-Version follows the ProtocolVersion attribute, which names only an agreed revision: initialize goes
            // without it, so a server that checks the header before reading the body (asyncmcp's) does not refuse the handshake.
            var sink = new WebhookHttpSink(http, signer, _options.RequestTimeout)
            {
                // Bad input is answered at once with a JSON-RPC error: hand it to the session like any reply, so the
                // caller's request fails with it instead of waiting.
                OnRefused = (message, status, body) => DeliverRefusal(replies, message, status, body),
            };

            var transport = new AsyncMcpClientSessionTransport(
                _options.Name,
                replies,
                sink,
                _options.ServerUrl!.ToString(),
                replyAddress,
                ReplyAddressConvention.Webhook,
                _options,
                _loggerFactory,
                WebhookMcpMessaging.System)
            {
                OwnedResources = resources,
                SessionCloseUnderstoodByAnyServer = true, // the close goes as an HTTP DELETE, which every webhook server (asyncmcp's too) understands
            };
            transport.Start();
            return transport;
        }
        catch
        {
            await resources.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<bool> DeliverRefusal(PushedReplyFeed replies, OutboundMessage message, HttpStatusCode status, string body)
    {
        if (!message.Attributes.TryGetValue(WireAttributes.RequestId, out var requestId) ||
            JsonRpcCodec.Decode(body).Message is not JsonRpcError error)
        {
            return false;
        }

        if (error.Id.ToString() != requestId)
        {
            // This HTTP answer concerns this request alone, whatever id its error carries: asyncmcp's server gives every
            // error it decides before reading the body (an unsupported X-Protocol-Version, a missing header) the id
            // "server-error", which the session could match to nothing, so the request would wait for ever. The
            // error goes to the request under its own id; the SDK then sees the refusal of a server/discover probe,
            // for example, and falls back to initialize.
            if (JsonRpcCodec.Decode(message.Body).Message is not JsonRpcRequest request)
            {
                return false;
            }

            body = JsonRpcCodec.Serialize(new JsonRpcError { Id = request.Id, Error = error.Error });
        }

        return await replies.PushAsync(new PushedMessage($"refused-{(int)status}-{Guid.NewGuid():N}", body, new Dictionary<string, string>()), CancellationToken.None).ConfigureAwait(false);
    }
}

/// <summary>Names shared by both ends of the webhook transport.</summary>
internal static class WebhookMcpMessaging
{
    /// <summary>The <c>messaging.system</c> on webhook spans.</summary>
    public const string System = "asyncmcp_webhook";
}
