using AsyncMcp.AspNetCore.Webhooks.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts the webhook server transport's endpoint in an ASP.NET Core app.</summary>
public static class WebhookEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Mounts the webhook endpoint: clients POST JSON-RPC messages to <paramref name="pattern"/> and DELETE it to close
    /// their session. Needs <c>WithWebhookServerTransport</c>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the web application).</param>
    /// <param name="pattern">The path; asyncmcp's default is <c>/mcp/request</c>.</param>
    /// <returns>The endpoint, for further conventions (authorization, rate limiting).</returns>
    public static IEndpointConventionBuilder MapMcpWebhook(this IEndpointRouteBuilder endpoints, string pattern = "/mcp/request")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var server = endpoints.ServiceProvider.GetService<WebhookServerTransport>()
            ?? throw new InvalidOperationException("MapMcpWebhook needs services.AddMcpServer().WithWebhookServerTransport(...) first.");
        server.MappedPattern = pattern;
        return endpoints.Map(pattern, server.HandleAsync);
    }

    /// <summary>
    /// Mounts the endpoint of a <see cref="WebhookServerTransport"/> created by hand (without dependency injection); the
    /// caller starts and disposes it.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the web application).</param>
    /// <param name="pattern">The path; asyncmcp's default is <c>/mcp/request</c>.</param>
    /// <param name="server">The server.</param>
    /// <returns>The endpoint, for further conventions.</returns>
    public static IEndpointConventionBuilder MapMcpWebhook(this IEndpointRouteBuilder endpoints, string pattern, WebhookServerTransport server)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(server);
        server.MappedPattern = pattern;
        return endpoints.Map(pattern, server.HandleAsync);
    }
}
