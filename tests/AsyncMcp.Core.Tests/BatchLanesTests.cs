using AsyncMcp.Messaging.Batching;
using Microsoft.Extensions.Time.Testing;

namespace AsyncMcp.Core.Tests;

/// <summary>
/// The lanes of one batcher: a destination used call after call keeps one lane; a lane idle for a minute is dropped,
/// one with work in flight or used within the minute is kept, and a dropped destination gets a new lane that works.
/// </summary>
public sealed class BatchLanesTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_destination_keeps_its_lane_while_used_and_loses_it_after_a_minute_idle()
    {
        var time = new FakeTimeProvider();
        var sent = new List<(string Destination, int Entries)>();
        var lanes = new BatchLanes<string>(
            (destination, batch) =>
            {
                lock (sent)
                {
                    sent.Add((destination, batch.Count));
                }

                foreach (var pending in batch)
                {
                    pending.Succeed();
                }

                return Task.CompletedTask;
            },
            static _ => 1,
            BatchLimits.Aws(int.MaxValue),
            time);

        await lanes.SubmitAsync("reply-queue-a", "1", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        await lanes.SubmitAsync("reply-queue-b", "2", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.Equal(2, lanes.Count);

        // Within the minute, b is used again; a is not.
        time.Advance(TimeSpan.FromSeconds(40));
        await lanes.SubmitAsync("reply-queue-b", "3", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.Equal(2, lanes.Count);

        // The next use after the minute looks for idle lanes: a has been idle 65 s and goes, b (25 s) stays.
        time.Advance(TimeSpan.FromSeconds(25));
        await lanes.SubmitAsync("reply-queue-b", "4", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.Equal(1, lanes.Count);

        // A dropped destination used again gets a lane that works.
        await lanes.SubmitAsync("reply-queue-a", "5", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.Equal(2, lanes.Count);
        Assert.Equal(5, sent.Count);
    }

    [Fact]
    public async Task A_lane_with_a_batch_in_flight_is_kept_however_long_it_takes()
    {
        var time = new FakeTimeProvider();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lanes = new BatchLanes<string>(
            async (destination, batch) =>
            {
                if (destination == "slow")
                {
                    await release.Task;
                }

                foreach (var pending in batch)
                {
                    pending.Succeed();
                }
            },
            static _ => 1,
            BatchLimits.Aws(int.MaxValue),
            time);

        var slow = lanes.SubmitAsync("slow", "1", Timeout);
        time.Advance(TimeSpan.FromMinutes(5));
        await lanes.SubmitAsync("other", "2", Timeout).WaitAsync(TimeSpan.FromSeconds(10), Timeout);
        Assert.Equal(2, lanes.Count);
        Assert.False(slow.IsCompleted);

        release.SetResult();
        await slow.WaitAsync(TimeSpan.FromSeconds(10), Timeout);
    }

    [Fact]
    public async Task A_cancelled_submission_is_not_sent_and_completes_cancelled()
    {
        var sent = 0;
        var lanes = new BatchLanes<string>(
            (_, batch) =>
            {
                Interlocked.Add(ref sent, batch.Count);
                return Task.CompletedTask;
            },
            static _ => 1,
            BatchLimits.Aws(int.MaxValue));

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lanes.SubmitAsync("queue", "1", cancelled.Token));
        Assert.Equal(0, sent);
    }
}
