using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A tool that runs until cancelled and then takes a moment to stop, as a bridged child process does: a session it runs
/// in takes that long to close, which opens the window a shutdown test needs.
/// </summary>
internal static class SlowToStopTool
{
    public const string Name = "slow_to_stop";

    /// <summary>Adds the tool; <paramref name="started"/> is set when it runs, <paramref name="stopping"/> when it is cancelled.</summary>
    public static void AddTo(McpServerOptions options, TimeSpan stopTime, TaskCompletionSource started, TaskCompletionSource? stopping = null) =>
        options.ToolCollection!.Add(McpServerTool.Create(
            async (CancellationToken cancellationToken) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    stopping?.TrySetResult();
                    await Task.Delay(stopTime, CancellationToken.None);
                }

                return "stopped";
            },
            new() { Name = Name }));
}
