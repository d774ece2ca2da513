using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the hybrid transport (Streamable HTTP, with webhook delivery for long-running tools) with an MCP server built by <c>services.AddMcpServer()</c>.</summary>
public static partial class HybridMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves the MCP server over Streamable HTTP (the SDK's own, mounted with <see cref="HybridEndpointRouteBuilderExtensions.MapMcpHybrid"/>) and delivers
    /// the final results of webhook tools (marked with <see cref="WebhookDeliveryAttribute"/> or named in
    /// <see cref="HybridServerTransportOptions.WebhookTools"/>) to the webhook URL each client names. Sessions are
    /// stateful for clients that use <c>initialize</c> and sessionless for protocol revision 2026-07-28; the options are
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the transport options.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithHybridTransport(this IMcpServerBuilder builder, Action<HybridServerTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<HybridServerTransportOptions>().Configure(configure ?? (static _ => { }));
        return Add(builder);
    }

    /// <summary>
    /// Serves the MCP server over the hybrid transport with its options bound from a configuration section, such as
    /// <c>builder.Configuration.GetSection("AsyncMcp:Hybrid")</c> (keys named as the properties of
    /// <see cref="HybridServerTransportOptions"/>, such as <c>Security:Secret</c> and <c>WebhookTools:0</c>; durations as
    /// <c>hh:mm:ss</c>), then <paramref name="configure"/>. The options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configuration">The configuration section holding the transport options.</param>
    /// <param name="configure">Sets further options after binding, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static IMcpServerBuilder WithHybridTransport(this IMcpServerBuilder builder, IConfiguration configuration, Action<HybridServerTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = builder.Services.AddOptions<HybridServerTransportOptions>().BindReplacingLists(configuration);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Add(builder);
    }

    private static IMcpServerBuilder Add(IMcpServerBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<HybridSessionRegistry>();
        services.TryAddSingleton(sp => CreateDelivery(sp));
        services.TryAddSingleton(sp => new WebhookCallRunner(
            Options(sp),
            sp.GetRequiredService<HybridSessionRegistry>(),
            sp.GetRequiredService<HybridDelivery>(),
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<ILogger<WebhookCallRunner>>()));
        services.TryAddSingleton(sp => new HybridToolFilters(
            Options(sp),
            sp.GetRequiredService<HybridSessionRegistry>(),
            sp.GetRequiredService<HybridDelivery>(),
            sp.GetRequiredService<WebhookCallRunner>(),
            sp.GetRequiredService<ILogger<HybridToolFilters>>()));
        services.TryAddSingleton(sp => new HybridEndpointFilter(
            Options(sp),
            sp.GetRequiredService<HybridSessionRegistry>(),
            sp.GetRequiredService<HybridDelivery>(),
            sp.GetRequiredService<ILogger<HybridEndpointFilter>>()));
        services.AddHostedService(sp => new HybridStartup(
            Options(sp),
            sp.GetRequiredService<HybridDelivery>(),
            sp.GetRequiredService<WebhookCallRunner>(),
            sp.GetRequiredService<IOptions<McpServerOptions>>(),
            sp.GetRequiredService<ILogger<HybridStartup>>())
        {
            Health = sp.GetService<AsyncMcp.Diagnostics.ServerHealthRegistry>(),
            Probe = new HybridHealthProbe(sp.GetRequiredService<HybridDelivery>(), sp.GetRequiredService<HybridEndpointFilter>(), sp.GetRequiredService<HybridSessionRegistry>()),
        });

        builder.WithHttpTransport(options => options.SessionMode = HttpServerSessionMode.StatefulForInitializeClients);
        services.AddSingleton<IPostConfigureOptions<HttpServerTransportOptions>, TrackSessions>();
        // A server the hybrid endpoint did not create (a durable task's private session, say) has no hybrid services:
        // its messages pass through untouched.
        builder.WithRequestFilters(filters =>
        {
            filters.AddListToolsFilter(next => (context, cancellationToken) => Filters(context.Services ?? context.Server.Services) is { } hybrid ? hybrid.ListToolsAsync(next, context, cancellationToken) : next(context, cancellationToken));
            filters.AddCallToolFilter(next => (context, cancellationToken) => Filters(context.Services ?? context.Server.Services) is { } hybrid ? hybrid.CallToolAsync(next, context, cancellationToken) : next(context, cancellationToken));
        });
        builder.WithMessageFilters(filters =>
        {
            filters.AddIncomingFilter(next => (context, cancellationToken) => Filters(context.Services ?? context.Server.Services) is { } hybrid ? hybrid.OnIncomingAsync(next, context, cancellationToken) : next(context, cancellationToken));
            filters.AddOutgoingFilter(next => (context, cancellationToken) => Filters(context.Services ?? context.Server.Services) is { } hybrid ? hybrid.OnOutgoingAsync(next, context, cancellationToken) : next(context, cancellationToken));
        });
        return builder;
    }

    private static HybridToolFilters? Filters(IServiceProvider? services) => services?.GetService<HybridToolFilters>();

    private static HybridServerTransportOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<HybridServerTransportOptions>>().Value;

    private static HybridDelivery CreateDelivery(IServiceProvider services)
    {
        var options = Options(services);
        options.Validate();
        return new HybridDelivery(options, services.GetRequiredService<HybridSessionRegistry>(), services.GetService<ILoggerFactory>(), services.GetService<TimeProvider>());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} ended (idle) while {Count} webhook calls ran; they go on and deliver their results by webhook.")]
    private static partial void LogCallsOutliveSession(ILogger logger, int count, string sessionId);

    /// <summary>Gives each stateful session's own server to the registry, and closes the session's entry when it ends.</summary>
    private sealed class TrackSessions(HybridSessionRegistry registry, IServiceProvider services) : IPostConfigureOptions<HttpServerTransportOptions>
    {
        public void PostConfigure(string? name, HttpServerTransportOptions options)
        {
#pragma warning disable MCPEXP002 // RunSessionHandler is experimental in the SDK; it is the only hook that sees a session's own server.
            var userHandler = options.RunSessionHandler;
            var logger = services.GetRequiredService<ILogger<HybridSessionRegistry>>();
            options.RunSessionHandler = async (context, server, cancellationToken) =>
            {
                if (server.SessionId is not { } sessionId)
                {
                    await Run(context, server, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var session = registry.AddSession(sessionId);
                session.Server = server;
                try
                {
                    await Run(context, server, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // Closed before it is forgotten, so a result that finishes later is logged as discarded, not left here.
                    registry.Remove(session);
                    var (calls, kept) = session.Close();
                    var reason = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested
                        ? CallStopReason.ServerStopping
                        : CallStopReason.SessionEnded;

                    // A webhook call outlives its session's idle expiry (nothing holds an SDK session active between
                    // requests): it goes on and delivers its result by webhook. The client closing the session, or the
                    // server stopping, ends it.
                    if (reason == CallStopReason.ServerStopping || session.ClosedByClient)
                    {
                        foreach (var call in calls)
                        {
                            call.Stop(reason);
                        }
                    }
                    else if (calls.Count > 0)
                    {
                        LogCallsOutliveSession(logger, calls.Count, sessionId);
                    }

                    services.GetRequiredService<HybridDelivery>().OnSessionEnded(session, kept, reason == CallStopReason.ServerStopping ? "the server is stopping" : "the session ended");
                }
            };
#pragma warning restore MCPEXP002

            Task Run(HttpContext context, McpServer server, CancellationToken cancellationToken) =>
                userHandler is null ? server.RunAsync(cancellationToken) : userHandler(context, server, cancellationToken);
        }
    }

    /// <summary>
    /// Checks the setup when the host starts (unsigned deliveries, tool names that match no tool, whether sessions can
    /// be held active) and, when it stops, cancels the webhook calls still running and waits for them to end.
    /// </summary>
    private sealed partial class HybridStartup(
        HybridServerTransportOptions options,
        HybridDelivery delivery,
        WebhookCallRunner runner,
        IOptions<McpServerOptions> serverOptions,
        ILogger<HybridStartup> logger) : IHostedService
    {
        public AsyncMcp.Diagnostics.ServerHealthRegistry? Health { get; init; }

        public required AsyncMcp.Diagnostics.IServerHealthProbe Probe { get; init; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Health?.Add(Probe);
            if (delivery.Unsigned)
            {
                LogUnsigned(logger);
            }

            // Tools served by a handler (a forwarded MCP server, say) are not known before a client asks: nothing to check.
            var tools = serverOptions.Value.ToolCollection;
            var handled = serverOptions.Value.Handlers.ListToolsHandler is not null;
            var unknown = handled ? [] : options.WebhookTools.Where(t => tools is null || !tools.TryGetPrimitive(t, out _)).ToList();
            if (unknown.Count > 0)
            {
                var registered = tools is null ? "none" : string.Join(", ", tools.Select(t => t.ProtocolTool.Name).Order(StringComparer.Ordinal));
                LogUnknownWebhookTools(logger, string.Join(", ", unknown), registered);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Health?.Remove(Probe);
            return runner.StopAllAsync(cancellationToken);
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "The hybrid transport sends webhook deliveries unsigned (Security.AllowUnsigned): clients cannot tell them from forgeries. Use this only with clients that cannot verify, such as the Python asyncmcp.")]
        private static partial void LogUnsigned(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "HybridServerTransportOptions.WebhookTools names {Unknown}, which match no registered tool (registered: {Registered}); calls to them cannot answer by webhook. A tool added later, or per session, is still honoured.")]
        private static partial void LogUnknownWebhookTools(ILogger logger, string unknown, string registered);
    }
}
