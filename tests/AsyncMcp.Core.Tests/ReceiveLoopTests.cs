using System.Diagnostics;
using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

public sealed class ReceiveLoopTests
{
    [Fact]
    public async Task Stopping_cancels_a_long_poll_in_flight()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        var loop = new ReceiveLoop(source, (_, _) => Task.CompletedTask, 10);
        loop.Start();
        await Eventually(() => !source.RequestedCounts.IsEmpty);

        var stopwatch = Stopwatch.StartNew();
        await loop.DisposeAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"stop took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Hands_messages_over_in_order_and_survives_a_failing_handler()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        var done = new TaskCompletionSource();
        await using var loop = new ReceiveLoop(source, (m, _) =>
        {
            seen.Add(m.Body);
            if (m.Body == "2")
            {
                throw new InvalidOperationException("handler bug");
            }

            if (seen.Count == 4)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        }, 10);
        foreach (var body in new[] { "1", "2", "3", "4" })
        {
            source.Enqueue(new FakeInboundMessage(body));
        }

        loop.Start();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["1", "2", "3", "4"], seen);
    }

    [Fact]
    public async Task Receives_no_more_than_the_limiter_allows()
    {
        var source = new FakeSource(TimeSpan.FromSeconds(30));
        var limiter = new InFlightLimiter(3);
        limiter.Acquire();
        limiter.Acquire();
        await using var loop = new ReceiveLoop(source, (_, _) => Task.CompletedTask, 10, limiter);
        loop.Start();
        await Eventually(() => !source.RequestedCounts.IsEmpty);

        Assert.Equal(1, source.RequestedCounts.First());
    }

    [Fact]
    public async Task Waits_for_capacity_before_receiving()
    {
        var limiter = new InFlightLimiter(1);
        limiter.Acquire();

        var wait = limiter.WaitForCapacityAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);

        limiter.Release();
        Assert.Equal(1, await wait.WaitAsync(TimeSpan.FromSeconds(5)));
        await limiter.WaitForDrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_fatal_receive_error_ends_the_loop_and_a_passing_one_is_retried()
    {
        var passing = new FakeSource(TimeSpan.FromSeconds(30));
        var failures = 0;
        passing.Fail = () => Interlocked.Increment(ref failures) <= 2 ? new AsyncMcpTransportException("blip", isTransient: true) : null;
        await using (var loop = new ReceiveLoop(passing, (_, _) => Task.CompletedTask, 10, isFatal: _ => false))
        {
            loop.Start();
            await Eventually(() => passing.RequestedCounts.Count >= 3);
        }

        var fatal = new FakeSource(TimeSpan.FromSeconds(30)) { Fail = () => new InvalidOperationException("queue gone") };
        var fatalLoop = new ReceiveLoop(fatal, (_, _) => Task.CompletedTask, 10, isFatal: _ => true);
        fatalLoop.Start();
        await Assert.ThrowsAsync<InvalidOperationException>(() => fatalLoop.Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        await fatalLoop.DisposeAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(50)]
    public void Backoff_grows_with_failures_within_bounds(int failures)
    {
        for (var i = 0; i < 100; i++)
        {
            var delay = ReceiveLoop.Backoff(failures);
            Assert.InRange(delay.TotalMilliseconds, 100, 10_000);
            Assert.True(delay.TotalMilliseconds <= 100 * Math.Pow(2, failures - 1) + 1);
        }
    }
}
