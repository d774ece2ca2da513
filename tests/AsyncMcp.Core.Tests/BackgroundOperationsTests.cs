using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>
/// Background operations are tracked until their own work ends (not when their delegate first returns), whichever
/// queue they start on: shutdown waits on this before it disposes what the work uses.
/// </summary>
public sealed class BackgroundOperationsTests
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Waiting_covers_an_operation_until_its_own_work_ends(bool behindQueuedWork)
    {
        var operations = new BackgroundOperations(behindQueuedWork);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        operations.Run(async () =>
        {
            started.TrySetResult();
            await release.Task;
        });

        await started.Task.WaitAsync(s_deadline);
        Assert.Equal(1, operations.Count);
        Assert.False(await operations.WaitAsync(TimeSpan.Zero, CancellationToken.None));

        release.TrySetResult();
        Assert.True(await operations.WaitAsync(s_deadline, CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failed_operation_ends_the_wait_like_a_finished_one(bool behindQueuedWork)
    {
        var operations = new BackgroundOperations(behindQueuedWork);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        operations.Run(async () =>
        {
            await release.Task;
            throw new InvalidOperationException("the broker refused");
        });

        Assert.False(await operations.WaitAsync(TimeSpan.Zero, CancellationToken.None));
        release.TrySetResult();
        Assert.True(await operations.WaitAsync(s_deadline, CancellationToken.None));
        Assert.True(operations.TryRun(() => Task.CompletedTask));
        await operations.DrainAsync(s_deadline);
        Assert.False(operations.TryRun(() => Task.CompletedTask));
    }
}
