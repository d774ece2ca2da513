using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;

namespace AsyncMcp.AspNetCore.Hybrid.Client;

/// <summary>Settings of <see cref="HybridClientTransport"/>.</summary>
public sealed class HybridClientTransportOptions
{
    /// <summary>The server's Streamable HTTP endpoint, such as <c>https://mcp.example.com/mcp</c>. Required.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// Whether to name a webhook to the server. When <see langword="false"/> the client tells the server it has none (it
    /// names no <c>webhookUrl</c>), and webhook tools answer on the stream like any other. Default <see langword="true"/>.
    /// </summary>
    public bool UseWebhook { get; set; } = true;

    /// <summary>The address the client's own webhook listener binds: <c>http://127.0.0.1:0</c> (a free loopback port) by default.</summary>
    public string ListenUrl { get; set; } = "http://127.0.0.1:0";

    /// <summary>The path of the webhook on the client's own listener. Default <c>/mcp/webhook</c>.</summary>
    public string WebhookPath { get; set; } = "/mcp/webhook";

    /// <summary>
    /// The URL the server should POST results to. Required with <see cref="Receiver"/> (the public URL of the endpoint
    /// it is mounted at); otherwise the own listener's URL is used unless this overrides it (behind a proxy, say).
    /// </summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>A receiver mounted in an existing app with <c>MapMcpWebhookReceiver</c>, instead of a listener of the client's own.</summary>
    public WebhookReceiver? Receiver { get; set; }

    /// <summary>How deliveries are verified (Standard Webhooks). A secret is required unless unsigned deliveries are allowed.</summary>
    public WebhookSecurityOptions Security { get; set; } = new();

    /// <summary>The largest delivery accepted; larger ones are answered 413. Default 16 MiB.</summary>
    public int MaxDeliveryBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Headers sent with every HTTP request to the server (authorization, say).</summary>
    public IDictionary<string, string> AdditionalHeaders { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// How long a webhook call may go without its result: counted from the server's acknowledgement, and started again
    /// by each progress notification of the call. When it passes, the call fails with a JSON-RPC error (<c>-32603</c>,
    /// <c>data.reason</c> <c>result_timeout</c>) naming this option, and the server is told to cancel it. A call that
    /// reports progress can therefore run for as long as it keeps reporting. <see cref="Timeout.InfiniteTimeSpan"/>
    /// waits for ever. Default 1 hour.
    /// </summary>
    public TimeSpan ResultTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The transport's name in logs. Default <c>asyncmcp-hybrid</c>.</summary>
    public string Name { get; set; } = "asyncmcp-hybrid";

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        const string name = nameof(HybridClientTransportOptions);
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{name}.{nameof(Endpoint)} is required and must be an absolute http(s) URL (was '{Endpoint}').");
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException($"{name}.{nameof(Name)} must not be empty.");
        }

        ArgumentNullException.ThrowIfNull(AdditionalHeaders, $"{name}.{nameof(AdditionalHeaders)}");
        if (ResultTimeout != Timeout.InfiniteTimeSpan && (ResultTimeout <= TimeSpan.Zero || ResultTimeout > TimeSpan.FromDays(30)))
        {
            throw new ArgumentException($"{name}.{nameof(ResultTimeout)} must be positive and at most 30 days, or Timeout.InfiniteTimeSpan (was {ResultTimeout}).");
        }

        if (!UseWebhook)
        {
            return;
        }

        if (MaxDeliveryBytes < 1024)
        {
            throw new ArgumentException($"{name}.{nameof(MaxDeliveryBytes)} must be at least 1024 (was {MaxDeliveryBytes}).");
        }

        if (Receiver is not null && WebhookUrl is null)
        {
            throw new ArgumentException($"{name}.{nameof(WebhookUrl)} is required with {nameof(Receiver)}: the public URL of the endpoint the receiver is mounted at.");
        }

        if (WebhookUrl is not null && (!WebhookUrl.IsAbsoluteUri || (WebhookUrl.Scheme != Uri.UriSchemeHttp && WebhookUrl.Scheme != Uri.UriSchemeHttps)))
        {
            throw new ArgumentException($"{name}.{nameof(WebhookUrl)} must be an absolute http(s) URL (was '{WebhookUrl}').");
        }

        if (Receiver is null && (!Uri.TryCreate(ListenUrl, UriKind.Absolute, out var listen) || listen.Scheme != Uri.UriSchemeHttp))
        {
            throw new ArgumentException($"{name}.{nameof(ListenUrl)} must be an absolute http URL such as http://127.0.0.1:0 (was '{ListenUrl}').");
        }

        if (string.IsNullOrWhiteSpace(WebhookPath) || !WebhookPath.StartsWith('/'))
        {
            throw new ArgumentException($"{name}.{nameof(WebhookPath)} must start with '/' (was '{WebhookPath}').");
        }

        ArgumentNullException.ThrowIfNull(Security, $"{name}.{nameof(Security)}");
        Security.Validate(name);
    }
}
