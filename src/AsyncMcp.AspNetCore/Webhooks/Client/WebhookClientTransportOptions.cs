using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Client;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>Settings of <see cref="WebhookClientTransport"/>.</summary>
public sealed class WebhookClientTransportOptions : AsyncMcpClientTransportOptions
{
    /// <summary>The server's webhook endpoint, such as <c>https://mcp.example.com/mcp/request</c>. Required.</summary>
    public Uri? ServerUrl { get; set; }

    /// <summary>
    /// Where the transport's own listener binds when no <see cref="Receiver"/> is given. Port 0 picks a free port.
    /// Default <c>http://127.0.0.1:0</c>.
    /// </summary>
    public string ListenUrl { get; set; } = "http://127.0.0.1:0";

    /// <summary>The path of the transport's own listener. Default <c>/mcp/webhook</c>.</summary>
    public string WebhookPath { get; set; } = "/mcp/webhook";

    /// <summary>
    /// The URL the server should POST to. Required with <see cref="Receiver"/> (the public URL of the endpoint it is
    /// mounted at); with the transport's own listener, defaults to the address it bound (set it when the server
    /// reaches this machine by another name, behind a proxy or NAT).
    /// </summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>A receiver mounted in an existing ASP.NET Core app (see <c>MapMcpWebhookReceiver</c>); the transport then runs no listener of its own.</summary>
    public WebhookReceiver? Receiver { get; set; }

    /// <summary>How requests are signed and deliveries verified (for the transport's own listener). A secret is required unless unsigned operation is allowed.</summary>
    public WebhookSecurityOptions Security { get; set; } = new();

    /// <summary>How long one POST to the server may take before it counts as failed and is retried. Default 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest delivery the transport's own listener accepts. Default 16 MiB.</summary>
    public int MaxDeliveryBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Whether the webhook URL this client names asks AsyncMcp servers to send the answers that wait for it at the same
    /// moment together, in one POST (a JSON array; the receiver takes both forms). Servers that do not know the
    /// extension (asyncmcp's) ignore it. Turn it off to get one message per POST from every server. Default
    /// <see langword="true"/>.
    /// </summary>
    public bool AcceptBatchedDeliveries { get; set; } = true;

    /// <summary>The client name in logs. Default <c>asyncmcp-webhook</c>.</summary>
    public string Name { get; set; } = "asyncmcp-webhook";

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        const string name = nameof(WebhookClientTransportOptions);
        if (ServerUrl is null || !ServerUrl.IsAbsoluteUri || (ServerUrl.Scheme != Uri.UriSchemeHttp && ServerUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{name}.{nameof(ServerUrl)} must be an absolute http(s) URL (was '{ServerUrl}').");
        }

        if (WebhookUrl is not null && (!WebhookUrl.IsAbsoluteUri || (WebhookUrl.Scheme != Uri.UriSchemeHttp && WebhookUrl.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"{name}.{nameof(WebhookUrl)} must be an absolute http(s) URL (was '{WebhookUrl}').");
        }

        if (Receiver is not null && WebhookUrl is null)
        {
            throw new ArgumentException($"{name}.{nameof(WebhookUrl)} is required with {nameof(Receiver)}: the public URL of the endpoint the receiver is mounted at.");
        }

        if (Receiver is null)
        {
            if (!Uri.TryCreate(ListenUrl, UriKind.Absolute, out var listen) || listen.Scheme != Uri.UriSchemeHttp && listen.Scheme != Uri.UriSchemeHttps)
            {
                throw new ArgumentException($"{name}.{nameof(ListenUrl)} must be an absolute http(s) URL such as http://127.0.0.1:0 (was '{ListenUrl}').");
            }

            if (string.IsNullOrWhiteSpace(WebhookPath) || !WebhookPath.StartsWith('/'))
            {
                throw new ArgumentException($"{name}.{nameof(WebhookPath)} must be a path starting with '/' (was '{WebhookPath}').");
            }

            ArgumentNullException.ThrowIfNull(Security, $"{name}.{nameof(Security)}");
        }

        Security?.Validate(name);
        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"{name}.{nameof(RequestTimeout)} must be positive and at most 10 minutes (was {RequestTimeout}).");
        }

        if (MaxDeliveryBytes < 1024)
        {
            throw new ArgumentException($"{name}.{nameof(MaxDeliveryBytes)} must be at least 1 KiB (was {MaxDeliveryBytes}).");
        }
    }
}
