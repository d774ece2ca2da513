using System.ComponentModel;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace SnsSqsServer;

/// <summary>Ordinary MCP tools: nothing here knows which transport serves them.</summary>
[McpServerToolType]
public sealed class SampleTools
{
    [McpServerTool(Name = "echo"), Description("Echoes the message back.")]
    public static string Echo(string message) => $"Echo: {message}";

    [McpServerTool(Name = "long_running_job"), Description("Works through a number of steps, reporting progress after each one.")]
    public static async Task<string> LongRunningJob(
        IProgress<ProgressNotificationValue> progress,
        CancellationToken cancellationToken,
        [Description("How many steps to run.")] int steps = 5,
        [Description("Milliseconds per step.")] int stepMilliseconds = 400)
    {
        for (var step = 1; step <= steps; step++)
        {
            await Task.Delay(stepMilliseconds, cancellationToken);
            progress.Report(new ProgressNotificationValue { Progress = step, Total = steps, Message = $"finished step {step} of {steps}" });
        }

        return $"Job complete: {steps} steps in {steps * stepMilliseconds} ms.";
    }
}
