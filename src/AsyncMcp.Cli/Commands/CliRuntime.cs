using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Cli.Commands;

/// <summary>What every command shares: logging to standard error (standard output may be an MCP stdio channel), the wait for a stop signal, and exit codes.</summary>
internal static class CliRuntime
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public static ILoggerFactory CreateLoggerFactory(bool verbose) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    /// <summary>Waits for Ctrl+C or SIGTERM (<paramref name="cancellationToken"/> cancelled); the caller then stops what it runs.</summary>
    public static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: the caller stops receiving and ends every session.
        }
    }

    /// <summary>Runs a command body, turning failures into one clear line on standard error and an exit code.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (CliUsageException ex)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: {ex.Message}").ConfigureAwait(false);
            return Usage;
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: invalid configuration: {ex.Message}").ConfigureAwait(false);
            return Usage;
        }
        catch (OperationCanceledException)
        {
            return Ok;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or InvalidOperationException or ModelContextProtocol.McpException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"asyncmcp: {ex.Message}").ConfigureAwait(false);
            return Failed;
        }
    }
}
