using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Webhooks.Server;

/// <summary>Registers and mounts the webhook server transport.</summary>
public static class WebhookMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server's tools, prompts and resources over webhooks: mount the endpoint with
    /// <see cref="MapMcpWebhook(IEndpointRouteBuilder, string)"/>. The options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithWebhookServerTransport(this IMcpServerBuilder builder, Action<WebhookServerTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.AddSingleton(sp => new WebhookServerTransport(
            sp.GetRequiredService<IOptions<WebhookServerTransportOptions>>().Value,
            sp.GetRequiredService<IOptions<McpServerOptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp));
        builder.Services.AddHostedService<WebhookServerHostedService>();
        return builder;
    }

    /// <summary>
    /// Mounts the webhook endpoint: clients POST JSON-RPC messages to <paramref name="pattern"/> and DELETE it to close
    /// their session. Needs <see cref="WithWebhookServerTransport"/>.
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

    private sealed class WebhookServerHostedService(WebhookServerTransport server, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            server.Start();
            services.GetService<Diagnostics.ServerHealthRegistry>()?.Add(server.HealthProbe);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            services.GetService<Diagnostics.ServerHealthRegistry>()?.Remove(server.HealthProbe);
            return server.StopAsync(cancellationToken);
        }
    }
}
