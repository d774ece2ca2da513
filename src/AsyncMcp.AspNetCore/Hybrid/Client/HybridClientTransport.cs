using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Client;

/// <summary>
/// A client transport for <see cref="McpClient.CreateAsync"/> that speaks Streamable HTTP to a hybrid server and
/// receives the results of webhook tools on its own webhook (its own listener, by default on a free loopback port, or a
/// <see cref="WebhookReceiver"/> mounted in an existing app). It names its webhook to the server itself, verifies every
/// delivery's signature and merges deliveries into the session, so <c>CallToolAsync</c> on a webhook tool simply
/// completes when the result arrives, with progress on the way.
/// </summary>
/// <example>
/// <code>
/// var transport = new HybridClientTransport(new HybridClientTransportOptions
/// {
///     Endpoint = new Uri("https://mcp.example.com/mcp"),
///     Security = { Secret = sharedSecret },
/// });
/// await using var client = await McpClient.CreateAsync(transport);
/// var result = await client.CallToolAsync("render_report", progress: new Progress&lt;ProgressNotificationValue&gt;(p => …));
/// </code>
/// </example>
public sealed class HybridClientTransport : IClientTransport
{
    /// <summary>The header that names the client connection to the server, as asyncmcp's hybrid client sends it.</summary>
    public const string ClientIdHeader = "X-Client-ID";

    private readonly HybridClientTransportOptions _options;
    private readonly ILoggerFactory? _loggerFactory;

    /// <summary>Creates the transport.</summary>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public HybridClientTransport(HybridClientTransportOptions options, ILoggerFactory? loggerFactory = null)
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
        var resources = new OwnedResources();
        try
        {
            var connection = Guid.NewGuid().ToString("N");
            PushedReplyFeed? deliveries = null;
            string? webhookUrl = null;
            if (_options.UseWebhook)
            {
                var replies = await WebhookReplies.OpenAsync(_options.Receiver, _options.WebhookUrl, _options.ListenUrl, _options.WebhookPath, _options.Security, _options.MaxDeliveryBytes, acceptBatches: false, resources, _loggerFactory, cancellationToken).ConfigureAwait(false);
                (connection, webhookUrl, deliveries) = replies;
            }

            var headers = new Dictionary<string, string>(_options.AdditionalHeaders, StringComparer.OrdinalIgnoreCase)
            {
                [ClientIdHeader] = connection,
            };
            var http = new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = _options.Endpoint!,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = headers,
                    Name = _options.Name,
                },
                _loggerFactory ?? NullLoggerFactory.Instance);
            var inner = await http.ConnectAsync(cancellationToken).ConfigureAwait(false);
            var session = new HybridClientSessionTransport(inner, deliveries, webhookUrl, _options.ResultTimeout, TimeProvider.System, resources, _loggerFactory?.CreateLogger<HybridClientTransport>() ?? NullLogger<HybridClientTransport>.Instance);
            session.Start();
            return session;
        }
        catch
        {
            await resources.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
