using AsyncMcp.AspNetCore.Webhooks.Server;
using AsyncMcp.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
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
        return Add(builder);
    }

    /// <summary>
    /// Serves the MCP server over webhooks with its options bound from a configuration section, such as
    /// <c>builder.Configuration.GetSection("AsyncMcp:Webhook")</c> (keys named as the properties of
    /// <see cref="WebhookServerTransportOptions"/>, such as <c>Security:Secret</c>; durations as <c>hh:mm:ss</c>), then
    /// <paramref name="configure"/>. The options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configuration">The configuration section holding the transport options.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithWebhookServerTransport(this IMcpServerBuilder builder, IConfiguration configuration, Action<WebhookServerTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = builder.Services.AddOptions<WebhookServerTransportOptions>().BindReplacingLists(configuration);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Add(builder);
    }

    private static IMcpServerBuilder Add(IMcpServerBuilder builder)
    {
        builder.Services.AddSingleton(sp => new WebhookServerTransport(
            sp.GetRequiredService<IOptions<WebhookServerTransportOptions>>().Value,
            sp.GetRequiredService<IOptions<McpServerOptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp));
        builder.Services.AddHostedService<WebhookServerHostedService>();
        return builder;
    }

    private sealed class WebhookServerHostedService(WebhookServerTransport server, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            server.Start();
            services.GetService<AsyncMcp.Diagnostics.ServerHealthRegistry>()?.Add(server.HealthProbe);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            services.GetService<AsyncMcp.Diagnostics.ServerHealthRegistry>()?.Remove(server.HealthProbe);
            return server.StopAsync(cancellationToken);
        }
    }
}
