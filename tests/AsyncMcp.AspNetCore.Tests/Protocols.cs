namespace AsyncMcp.AspNetCore.Tests;

public static class Protocols
{
    /// <summary>The initialize-handshake revision.</summary>
    public const string November2025 = "2025-11-25";

    /// <summary>The per-request-metadata revision (the SDK default, negotiated with server/discover).</summary>
    public const string July2026 = "2026-07-28";

    public static TheoryData<string> Both => new() { November2025, July2026 };

    /// <summary>What to put in McpClientOptions.ProtocolVersion: null lets the SDK default (2026-07-28) negotiate.</summary>
    public static string? ClientSetting(string protocol) => protocol == July2026 ? null : protocol;

    internal static async Task Eventually(Func<bool> condition, int timeoutSeconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (!condition())
        {
            if (cts.IsCancellationRequested)
            {
                Assert.Fail("The condition did not become true in time.");
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
internal sealed class SynchronousProgress(Action<ModelContextProtocol.ProgressNotificationValue> report) : IProgress<ModelContextProtocol.ProgressNotificationValue>
{
    public void Report(ModelContextProtocol.ProgressNotificationValue value) => report(value);
}
