using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// One webhook tool call running in the background after its POST was answered: its cancellation, and why it was
/// stopped, so that the log says who stopped it.
/// </summary>
internal sealed class WebhookCall : IDisposable
{
    private readonly CancellationTokenSource _cancellation;
    private int _stopReason;

    public WebhookCall(string tool, RequestId requestId, HybridSession session, string webhookUrl, CancellationToken serverStopping)
    {
        Tool = tool;
        RequestId = requestId;
        Key = requestId.ToString();
        Session = session;
        WebhookUrl = webhookUrl;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        ServerStopping = serverStopping;
    }

    public string Tool { get; }

    public RequestId RequestId { get; }

    /// <summary>The request id as <c>notifications/cancelled</c> names it.</summary>
    public string Key { get; }

    public HybridSession Session { get; }

    public string WebhookUrl { get; }

    /// <summary>Cancels the tool.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>The background task that runs the tool and delivers its result.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    private CancellationToken ServerStopping { get; }

    /// <summary>Why the call was stopped; <see cref="CallStopReason.None"/> while it has not been.</summary>
    public CallStopReason StopReason
    {
        get
        {
            var reason = (CallStopReason)Volatile.Read(ref _stopReason);
            return reason == CallStopReason.None && ServerStopping.IsCancellationRequested ? CallStopReason.ServerStopping : reason;
        }
    }

    /// <summary>Cancels the tool, remembering the first reason given.</summary>
    public void Stop(CallStopReason reason)
    {
        Interlocked.CompareExchange(ref _stopReason, (int)reason, (int)CallStopReason.None);
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished meanwhile.
        }
    }

    public void Dispose() => _cancellation.Dispose();
}

/// <summary>Why a webhook call was stopped before it finished.</summary>
internal enum CallStopReason
{
    None,

    /// <summary><c>notifications/cancelled</c> from the client.</summary>
    ClientCancelled,

    /// <summary>The session ended: a DELETE, the SDK's idle timeout, or its idle-session limit.</summary>
    SessionEnded,

    /// <summary>The server is shutting down.</summary>
    ServerStopping,
}
