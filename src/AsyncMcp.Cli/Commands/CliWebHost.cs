using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Cli.Commands;

/// <summary>The web host of the commands that listen: <c>serve</c> over webhook or hybrid, <c>proxy --listen</c>.</summary>
internal static class CliWebHost
{
    /// <summary>Whether <paramref name="listen"/> is an absolute http URL: the only kind of address the commands listen on.</summary>
    public static bool IsListenAddress([NotNullWhen(true)] string? listen) =>
        listen is not null && Uri.TryCreate(listen, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp;

    /// <summary>
    /// A slim web host on <paramref name="listen"/> that logs nothing of its own; with <paramref name="loggerFactory"/>,
    /// what it hosts logs through the command's logger factory.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string listen, ILoggerFactory? loggerFactory = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.UseUrls(listen);
        return builder;
    }

    /// <summary>Starts the web host; the address it listens on, without a trailing slash (the port is known only now when 0 was asked for).</summary>
    public static async Task<string> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.StartAsync(cancellationToken);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }
}
