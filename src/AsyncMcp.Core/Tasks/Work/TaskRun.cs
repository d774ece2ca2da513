using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// One leased work item: decides whether the task still needs running, runs it while renewing the lease and watching the
/// store for a cancel request, records its end once, and then removes the item (or hands it back when the worker stops).
/// </summary>
internal sealed partial class TaskRun : IDisposable
{
    private static readonly JsonTypeInfo<JsonRpcErrorDetail> s_errorDetail =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    private readonly TaskWorkContext _context;
    private TaskWorkItem _item;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cancelled = new();

    public TaskRun(TaskWorkContext context, TaskWorkItem item, ILogger logger)
    {
        _context = context;
        _item = item;
        _logger = logger;
    }

    public string TaskId => Item.TaskId;

    /// <summary>Gets the newest lease of the item.</summary>
    private TaskWorkItem Item => Volatile.Read(ref _item);

    /// <summary>Takes over a newer lease of the same task's item (it came back to this worker while the run went on).</summary>
    public void Adopt(TaskWorkItem newer) => Volatile.Write(ref _item, newer);

    /// <summary>Runs the item; <paramref name="stopping"/> is the worker stopping, which hands the item back instead of ending the task.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var taskId = Item.TaskId;
        var store = _context.Store;
        try
        {
            var record = await store.GetAsync(taskId, stopping).ConfigureAwait(false);
            if (record is null || record.Status.IsTerminal())
            {
                // Expired, deleted, or already ended by another delivery of the same item.
                await _context.Queue.CompleteAsync(Item, CancellationToken.None).ConfigureAwait(false);
                return;
            }

            if (record.CancelRequested)
            {
                await EndAsync(TaskCompletion.Cancelled()).ConfigureAwait(false);
                return;
            }

            if (Item.DeliveryCount > _context.MaxAttempts)
            {
                LogGaveUp(_logger, taskId, Item.DeliveryCount);
                await EndAsync(Failure(McpErrorCode.InternalError, $"The task was started {Item.DeliveryCount} times and never finished; its workers stopped or crashed.")).ConfigureAwait(false);
                return;
            }

            if (Item.DeliveryCount > 1)
            {
                LogTakenOver(_logger, taskId, Item.DeliveryCount);
            }

            var completion = await ExecuteAsync(record, stopping).ConfigureAwait(false);
            if (completion is null)
            {
                // The worker stops: another worker runs the task again, from the start.
                await _context.Queue.ReleaseAsync(Item, CancellationToken.None).ConfigureAwait(false);
                LogHandedBack(_logger, taskId);
                return;
            }

            await EndAsync(completion).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await ReleaseQuietlyAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The store or the queue failed: leave the item; its lease runs out and the task is tried again.
            LogRunFailed(_logger, taskId, exception);
        }
    }

    public void Dispose() => _cancelled.Dispose();

    /// <summary>Runs the tool; <see langword="null"/> when the worker stopped before the task ended.</summary>
    private async Task<TaskCompletion?> ExecuteAsync(TaskRecord record, CancellationToken stopping)
    {
        var taskId = record.TaskId;
        var signal = _context.Signals.Register(taskId);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stopping, _cancelled.Token);
        using var watching = new CancellationTokenSource();
        var progress = new TaskProgressWriter(_context.Store, taskId, _logger);
        var watch = WatchAsync(taskId, signal, watching.Token);
        var renewal = RenewAsync(watching.Token);
        try
        {
            var inputs = new TaskInputs(_context.Store, taskId, signal, _context.PollInterval);
            var result = await TaskExecution.RunAsync(record, _context.ServerOptions, _context.Services, _context.LoggerFactory, progress, inputs, running.Token).ConfigureAwait(false);
            return TaskCompletion.Completed(JsonSerializer.SerializeToElement(McpTasks.ToInlinedResult(result), McpTasksJsonContext.Default.JsonObject));
        }
        catch (OperationCanceledException) when (_cancelled.IsCancellationRequested)
        {
            return TaskCompletion.Cancelled();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return null;
        }
        catch (TaskToolCallFailedException exception)
        {
            return TaskCompletion.Failed(JsonSerializer.SerializeToElement(exception.Error, s_errorDetail), exception.Error.Message);
        }
        catch (Exception exception)
        {
            LogTaskCrashed(_logger, taskId, exception);
            return Failure(McpErrorCode.InternalError, "The task failed: " + exception.Message);
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await progress.DrainAsync().ConfigureAwait(false);
            _context.Signals.Unregister(taskId);
        }
    }

    /// <summary>Reads the task at the poll interval (or when woken here) and cancels the run once a cancel was requested, or the task ended or expired.</summary>
    private async Task WatchAsync(string taskId, TaskSignal signal, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await signal.WaitAsync(_context.PollInterval, stop).ConfigureAwait(false);
                var record = await _context.Store.GetAsync(taskId, stop).ConfigureAwait(false);
                if (record is null || record.CancelRequested || record.Status.IsTerminal())
                {
                    await _cancelled.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogWatchFailed(_logger, taskId, exception);
        }
    }

    /// <summary>Keeps the item leased while the task runs: renews at a third of the lease, so two renewals may fail before it runs out.</summary>
    private async Task RenewAsync(CancellationToken stop)
    {
        var every = _context.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, stop).ConfigureAwait(false);
                await _context.Queue.RenewAsync(Item, _context.LeaseDuration, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Keep running: if the lease is lost another worker may run the task too, and the first end recorded wins.
                LogRenewFailed(_logger, Item.TaskId, exception);
            }
        }
    }

    private async Task EndAsync(TaskCompletion completion)
    {
        TaskWriteResult written;
        try
        {
            written = await _context.Store.CompleteAsync(Item.TaskId, completion).ConfigureAwait(false);
        }
        catch (TaskRecordTooLargeException exception)
        {
            written = await _context.Store.CompleteAsync(Item.TaskId, Failure(McpErrorCode.InternalError, exception.Message)).ConfigureAwait(false);
        }

        LogTaskEnded(_logger, Item.TaskId, written.Record?.Status ?? completion.Status, written.Outcome);
        await _context.Queue.CompleteAsync(Item, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ReleaseQuietlyAsync()
    {
        try
        {
            await _context.Queue.ReleaseAsync(Item, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Its lease runs out by itself.
            LogRunFailed(_logger, Item.TaskId, exception);
        }
    }

    internal static TaskCompletion Failure(McpErrorCode code, string message) =>
        TaskCompletion.Failed(JsonSerializer.SerializeToElement(new JsonRpcErrorDetail { Code = (int)code, Message = message }, s_errorDetail), message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} ended {Status} ({Outcome}).")]
    private static partial void LogTaskEnded(ILogger logger, string taskId, TaskRecordStatus status, TaskWriteOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} runs again (delivery {DeliveryCount}): the worker that ran it stopped before it ended.")]
    private static partial void LogTakenOver(ILogger logger, string taskId, int deliveryCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Task {TaskId} was started {DeliveryCount} times without finishing; it is recorded as failed.")]
    private static partial void LogGaveUp(ILogger logger, string taskId, int deliveryCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} handed back to the queue: this worker stops.")]
    private static partial void LogHandedBack(ILogger logger, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} failed outside the tool's own error handling.")]
    private static partial void LogTaskCrashed(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Work on task {TaskId} failed in the task store or queue; the item is tried again when its lease runs out.")]
    private static partial void LogRunFailed(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} stopped watching the store for a cancel request.")]
    private static partial void LogWatchFailed(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lease of task {TaskId} could not be renewed; another worker may run it as well.")]
    private static partial void LogRenewFailed(ILogger logger, string taskId, Exception exception);
}
