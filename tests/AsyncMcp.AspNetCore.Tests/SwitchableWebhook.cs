using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// A client webhook on real Kestrel (127.0.0.1, a free port) that can be taken down: while down it answers every
/// delivery 503 (and counts it); while hanging it answers nothing until the request is aborted; while up it hands
/// deliveries to a <see cref="WebhookReceiver"/>, the one a hybrid client is given with <c>Receiver</c> and <c>WebhookUrl</c>.
/// </summary>
internal sealed class SwitchableWebhook : IAsyncDisposable
{
    private const string Path = "/hook";
    private readonly WebApplication _app;
    private volatile bool _up;
    private volatile bool _hang;
    private int _refused;
    private int _held;
    private int _accepted;

    private SwitchableWebhook(WebApplication app, WebhookReceiver receiver, bool up)
    {
        _app = app;
        Receiver = receiver;
        _up = up;
        Url = new Uri(WebhookHarness.BoundAddress(app) + Path);
    }

    public WebhookReceiver Receiver { get; }

    public Uri Url { get; }

    /// <summary>Deliveries answered 503 while down.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Deliveries handed to the receiver while up.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Deliveries that arrived while hanging.</summary>
    public int Held => Volatile.Read(ref _held);

    public bool Up
    {
        get => _up;
        set => _up = value;
    }

    /// <summary>While set, deliveries get no answer at all (a black-holed webhook), until the sender gives up.</summary>
    public bool Hang
    {
        get => _hang;
        set => _hang = value;
    }

    public static async Task<SwitchableWebhook> StartAsync(string secret, bool up)
    {
        var receiver = new WebhookReceiver(new WebhookSecurityOptions { Secret = secret }, loggerFactory: WebhookHarness.LoggerFactory);
        SwitchableWebhook? self = null;
        var app = await WebhookHarness.StartAppAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                if (self!._hang)
                {
                    Interlocked.Increment(ref self._held);
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                }

                if (!self._up)
                {
                    Interlocked.Increment(ref self._refused);
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return;
                }

                Interlocked.Increment(ref self._accepted);
                await next(context);
            });
            app.MapMcpWebhookReceiver(Path, receiver);
        });
        self = new SwitchableWebhook(app, receiver, up);
        return self;
    }

    /// <summary>Points a hybrid client at this webhook.</summary>
    public void Configure(Hybrid.Client.HybridClientTransportOptions options)
    {
        options.Receiver = Receiver;
        options.WebhookUrl = Url;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
