using ModelContextProtocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Reports progress on the thread that delivers it, unlike <see cref="Progress{T}"/>, which posts to the thread pool
/// and may report after the call it belongs to has returned.
/// </summary>
internal sealed class SyncProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
{
    public void Report(ProgressNotificationValue value) => report(value);
}
