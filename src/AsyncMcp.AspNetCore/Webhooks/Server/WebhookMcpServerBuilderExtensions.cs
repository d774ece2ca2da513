using AsyncMcp.AspNetCore.Webhooks.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the webhook server transport with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static class WebhookMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server's tools, prompts and resources over webhooks: mount the endpoint with
    /// <see cref="WebhookEndpointRouteBuilderExtensions.MapMcpWebhook(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, string)"/>. The options are validated when the host starts.
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

    private sealed class WebhookServerHostedService(WebhookServerTransport server) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            server.Start();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
    }
}
