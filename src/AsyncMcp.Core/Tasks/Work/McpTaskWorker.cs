using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Tasks;

/// <summary>
/// Takes the work of tasks from the <see cref="ITaskWorkQueue"/> and runs it, at most
/// <see cref="McpTasksServerOptions.MaxConcurrentTasks"/> at a time. Created and started by
/// <see cref="McpServerOptionsTasksExtensions.AddTasks"/>; stop it when the server stops.
/// </summary>
/// <remarks>
/// Each server process that shares a work queue runs one worker. A task runs on whichever worker leased its item; if that
/// worker dies, the lease runs out and another worker runs the task again (at-least-once execution; the end is recorded
/// once). <see cref="StopAsync"/> lets running tasks finish while its token allows and hands the rest back at once.
/// </remarks>
public sealed partial class McpTaskWorker : IAsyncDisposable
{
    private static readonly TimeSpan s_retryAfterReceiveFailure = TimeSpan.FromSeconds(1);

    private readonly TaskWorkContext _context;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<string, (TaskRun Run, Task Running)> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopReceiving = new();
    private readonly CancellationTokenSource _stopRunning = new();
    private readonly Task _receiving;
    private int _stopped;

    internal McpTaskWorker(TaskWorkContext context)
    {
        _context = context;
        _logger = context.LoggerFactory.CreateLogger<McpTaskWorker>();
        _slots = new SemaphoreSlim(context.MaxConcurrentTasks, context.MaxConcurrentTasks);
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>Gets how many tasks this worker runs now.</summary>
    public int RunningTasks => _runs.Count;

    /// <summary>
    /// Stops taking work, waits for the running tasks to end until <paramref name="cancellationToken"/> is cancelled,
    /// then stops the rest and hands their items back to the queue for another worker. Idempotent.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait for running tasks.</param>
    /// <returns>A task that completes once nothing runs here any more.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await _stopReceiving.CancelAsync().ConfigureAwait(false);
        }

        await _receiving.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_runs.Values.Select(run => run.Running)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogHandingBack(_logger, _runs.Count);
        }

        await _stopRunning.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_runs.Values.Select(run => run.Running)).ConfigureAwait(false);
    }

    /// <summary>Stops at once: running tasks are handed back to the queue. Idempotent; never throws.</summary>
    /// <returns>A task that completes once nothing runs here any more.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync().ConfigureAwait(false);
            await StopAsync(now.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            LogStopFailed(_logger, exception);
        }
    }

    private async Task ReceiveAsync()
    {
        var stop = _stopReceiving.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stop).ConfigureAwait(false);
                var free = 1;
                while (free < 10 && _slots.Wait(0))
                {
                    free++;
                }

                IReadOnlyList<TaskWorkItem> items;
                try
                {
                    items = await _context.Queue.ReceiveAsync(free, _context.LeaseDuration, stop).ConfigureAwait(false);
                }
                catch
                {
                    _slots.Release(free);
                    throw;
                }

                // Slots this receive did not fill go back now; filled ones when their run ends.
                if (items.Count < free)
                {
                    _slots.Release(free - items.Count);
                }

                foreach (var item in items)
                {
                    if (_runs.TryGetValue(item.TaskId, out var existing))
                    {
                        // Our own run's lease ran out before a renewal reached the queue, and the item came back to us: keep
                        // the one run and renew the new lease, rather than run the task twice here.
                        existing.Run.Adopt(item);
                        _slots.Release();
                        continue;
                    }

                    var run = new TaskRun(_context, item, _logger);
                    var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _runs[item.TaskId] = (run, RunItemAsync(run, listed.Task));
                    listed.SetResult();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogReceiveFailed(_logger, exception);
                try
                {
                    await Task.Delay(s_retryAfterReceiveFailure, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunItemAsync(TaskRun run, Task listed)
    {
        // Runs only once listed in _runs, so that its removal below cannot come first.
        await listed.ConfigureAwait(false);
        try
        {
            await run.RunAsync(_stopRunning.Token).ConfigureAwait(false);
        }
        finally
        {
            _runs.TryRemove(run.TaskId, out _);
            run.Dispose();
            _slots.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving task work failed; trying again.")]
    private static partial void LogReceiveFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handing {Count} running tasks back to the queue: the worker stops.")]
    private static partial void LogHandingBack(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The task worker did not stop cleanly.")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
