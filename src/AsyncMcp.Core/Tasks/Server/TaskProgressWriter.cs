using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// Writes a running task's progress to its record, one write at a time and in the order the tool reported it (a tool
/// reports without waiting, so writes must not overtake each other).
/// </summary>
internal sealed partial class TaskProgressWriter
{
    private readonly Channel<ProgressNotificationValue> _reports = Channel.CreateUnbounded<ProgressNotificationValue>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ITaskStore _store;
    private readonly string _taskId;
    private readonly ILogger _logger;
    private readonly Task _writing;

    public TaskProgressWriter(ITaskStore store, string taskId, ILogger logger)
    {
        _store = store;
        _taskId = taskId;
        _logger = logger;
        _writing = Task.Run(WriteAsync);
    }

    public void Report(ProgressNotificationValue value) => _reports.Writer.TryWrite(value);

    /// <summary>Stops taking reports and waits until those taken are written.</summary>
    public Task DrainAsync()
    {
        _reports.Writer.TryComplete();
        return _writing;
    }

    private async Task WriteAsync()
    {
        await foreach (var value in _reports.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            // Only the latest report matters: skip those already overtaken by newer ones.
            var latest = value;
            while (_reports.Reader.TryRead(out var newer))
            {
                latest = newer;
            }

            try
            {
                var message = latest.Message ?? (latest.Total is { } total
                    ? string.Create(CultureInfo.InvariantCulture, $"{latest.Progress}/{total}")
                    : latest.Progress.ToString(CultureInfo.InvariantCulture));
                await _store.ReportProgressAsync(_taskId, message, new TaskRecordProgress(latest.Progress, latest.Total, latest.Message)).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                LogProgressNotWritten(_logger, _taskId, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress of task {TaskId} could not be written to the task store.")]
    private static partial void LogProgressNotWritten(ILogger logger, string taskId, Exception exception);
}
