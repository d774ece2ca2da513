using AsyncMcp.Client;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>
/// Where one client connection receives its webhook deliveries: the connection's own address on a receiver (one mounted
/// in the user's app, or a listener of its own started here), with a feed the receiver pushes the connection's
/// deliveries to. Shared by the webhook and the hybrid client transports.
/// </summary>
/// <param name="Connection">The connection's id, which its address carries.</param>
/// <param name="Address">The webhook URL the server is told to POST to.</param>
/// <param name="Feed">What the receiver pushes this connection's deliveries to.</param>
internal sealed record WebhookReplies(string Connection, string Address, PushedReplyFeed Feed)
{
    /// <summary>Opens a connection's webhook; what it starts (a listener, the registration) is added to <paramref name="resources"/>.</summary>
    /// <remarks><paramref name="acceptBatches"/>: whether its URL asks for batched deliveries (the webhook transport's servers send them; the hybrid's do not).</remarks>
    public static async Task<WebhookReplies> OpenAsync(
        WebhookReceiver? receiver,
        Uri? webhookUrl,
        string listenUrl,
        string webhookPath,
        Signing.WebhookSecurityOptions security,
        int maxDeliveryBytes,
        bool acceptBatches,
        OwnedResources resources,
        ILoggerFactory? loggerFactory,
        CancellationToken cancellationToken)
    {
        Uri baseUrl;
        if (receiver is null)
        {
            receiver = new WebhookReceiver(security, maxDeliveryBytes, loggerFactory);
            var host = await WebhookReceiverHost.StartAsync(listenUrl, webhookPath, receiver, maxDeliveryBytes, cancellationToken).ConfigureAwait(false);
            resources.Add(host);
            baseUrl = webhookUrl ?? host.BoundUrl;
        }
        else
        {
            baseUrl = webhookUrl!;
        }

        var connection = Guid.NewGuid().ToString("N");
        var address = WebhookConnection.WithConnection(baseUrl, connection, acceptBatches);
        var feed = new PushedReplyFeed(address);
        resources.Add(receiver.Register(connection, feed));
        return new WebhookReplies(connection, address, feed);
    }
}
