using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>A client's own Kestrel listener for one <see cref="WebhookReceiver"/>, when the client has no web app to mount it in.</summary>
internal sealed class WebhookReceiverHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private WebhookReceiverHost(WebApplication app, Uri boundUrl)
    {
        _app = app;
        BoundUrl = boundUrl;
    }

    /// <summary>The URL the listener is bound to, including the path (with the real port when port 0 was asked for).</summary>
    public Uri BoundUrl { get; }

    public static async Task<WebhookReceiverHost> StartAsync(string listenUrl, string path, WebhookReceiver receiver, int maxBodyBytes, CancellationToken cancellationToken)
    {
        var app = CreateBuilder(listenUrl, maxBodyBytes).Build();
        app.MapPost(path, receiver.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? listenUrl;
        return new WebhookReceiverHost(app, new Uri(new Uri(bound.TrimEnd('/') + "/"), path.TrimStart('/')));
    }

    /// <summary>
    /// A builder with no configuration sources at all: the default builders read the host process's appsettings.json
    /// and environment (<c>Kestrel__Endpoints__…</c>, <c>ASPNETCORE_URLS</c>), whose endpoints would override
    /// <paramref name="listenUrl"/> and put the client's listener on the application's own address.
    /// </summary>
    internal static WebApplicationBuilder CreateBuilder(string listenUrl, int maxBodyBytes)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.WebHost.UseUrls(listenUrl);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBodyBytes + 1L);
        return builder;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
