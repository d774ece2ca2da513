using System.Reflection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Holds a stateful session of the SDK's Streamable HTTP endpoint active while webhook calls run on it, exactly as an
/// HTTP request in progress does. The SDK closes a session after <c>IdleTimeout</c> "between active requests" (and
/// closes the oldest idle ones beyond <c>MaxIdleSessionCount</c>); a webhook call answers its POST at once and then
/// runs with no request open, so without this its session would be closed under it and the call cancelled.
/// </summary>
/// <remarks>
/// The SDK has no public way to do this (ModelContextProtocol.AspNetCore 2.4.0): the reference count it takes for each
/// request is internal, so it is reached by reflection. Should a later SDK rename it, <see cref="IsAvailable"/> turns
/// false, a warning says so at start, and sessions whose only activity is webhook calls can again expire (a test
/// covers the lease, so an upgrade that breaks it is caught).
/// </remarks>
internal sealed partial class SdkSessionLeases
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
    private readonly object? _manager;
    private readonly MethodInfo? _tryGetSession;
    private readonly MethodInfo? _acquireReference;

    public SdkSessionLeases(IServiceProvider services)
    {
        var assembly = typeof(HttpServerTransportOptions).Assembly;
        var managerType = assembly.GetType("ModelContextProtocol.AspNetCore.StatefulSessionManager");
        var sessionType = assembly.GetType("ModelContextProtocol.AspNetCore.StreamableHttpSession");
        if (managerType is null || sessionType is null)
        {
            return;
        }

        _tryGetSession = managerType.GetMethod("TryGetValue", Members, [typeof(string), sessionType.MakeByRefType()]);
        _acquireReference = sessionType.GetMethod("AcquireReferenceAsync", Members, [typeof(CancellationToken)]);
        if (_tryGetSession?.ReturnType != typeof(bool) || _acquireReference?.ReturnType != typeof(ValueTask<IAsyncDisposable>))
        {
            _tryGetSession = null;
            _acquireReference = null;
            return;
        }

        _manager = services.GetService(managerType);
    }

    /// <summary>Whether sessions can be held active (the SDK's internals are as expected).</summary>
    public bool IsAvailable => _manager is not null && _tryGetSession is not null && _acquireReference is not null;

    /// <summary>Holds the session active until the returned lease is disposed.</summary>
    /// <returns>The lease, or <see langword="null"/> when the session is gone or leases are unavailable.</returns>
    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!IsAvailable)
        {
            return null;
        }

        object?[] arguments = [sessionId, null];
        if (!(bool)_tryGetSession!.Invoke(_manager, arguments)! || arguments[1] is not { } session)
        {
            return null;
        }

        try
        {
            return await ((ValueTask<IAsyncDisposable>)_acquireReference!.Invoke(session, [cancellationToken])!).ConfigureAwait(false);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is ObjectDisposedException)
        {
            // The session closed meanwhile.
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Says at start when sessions cannot be held active.</summary>
    public void ReportAvailability(ILogger logger)
    {
        if (!IsAvailable)
        {
            LogUnavailable(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The hybrid transport cannot hold SDK sessions active while webhook calls run (this ModelContextProtocol.AspNetCore version differs from the one it was built for): a session whose only activity is webhook calls can be closed by HttpServerTransportOptions.IdleTimeout, cancelling them. Raise IdleTimeout above your longest webhook call, or have clients keep their GET stream open.")]
    private static partial void LogUnavailable(ILogger logger);
}
