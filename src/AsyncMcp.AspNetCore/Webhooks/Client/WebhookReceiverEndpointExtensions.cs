using AsyncMcp.AspNetCore.Webhooks.Client;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts a <see cref="WebhookReceiver"/> in an existing ASP.NET Core app.</summary>
public static class WebhookReceiverEndpointExtensions
{
    /// <summary>
    /// Mounts <paramref name="receiver"/> at <paramref name="pattern"/>; give the same receiver, and the public URL of
    /// this endpoint, to <see cref="WebhookClientTransportOptions.Receiver"/> and <see cref="WebhookClientTransportOptions.WebhookUrl"/>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the web application).</param>
    /// <param name="pattern">The path, such as <c>/mcp/webhook</c>.</param>
    /// <param name="receiver">The receiver.</param>
    /// <returns>The endpoint, for further conventions.</returns>
    public static IEndpointConventionBuilder MapMcpWebhookReceiver(this IEndpointRouteBuilder endpoints, string pattern, WebhookReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(receiver);
        return endpoints.MapPost(pattern, receiver.HandleAsync);
    }
}
