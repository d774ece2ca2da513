namespace AsyncMcp.Testing;

/// <summary>
/// Bounded waits for tests: every wait has a deadline, so a regression fails the run instead of hanging it. Import
/// with <c>using static AsyncMcp.Testing.Waiting;</c>.
/// </summary>
public static class Waiting
{
    /// <summary>How long a condition may take unless a test says otherwise.</summary>
    public static TimeSpan DefaultDeadline { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Waits until <paramref name="condition"/> holds, checking every few milliseconds; fails the test at the deadline.</summary>
    /// <param name="condition">What must become true.</param>
    /// <param name="deadline">How long it may take; <see cref="DefaultDeadline"/> when <see langword="null"/>.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    public static Task Eventually(Func<bool> condition, TimeSpan? deadline = null, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return EventuallyAsync(() => Task.FromResult(condition()), deadline, what);
    }

    /// <summary>Waits until an asynchronous <paramref name="condition"/> holds (a broker queried, say); fails the test at the deadline.</summary>
    /// <param name="condition">What must become true.</param>
    /// <param name="deadline">How long it may take; <see cref="DefaultDeadline"/> when <see langword="null"/>.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? deadline = null, string? what = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = deadline ?? DefaultDeadline;
        using var timeout = Within(limit);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"{what ?? "The condition"} did not become true within {limit.TotalSeconds:0.#} s.");
            }

            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                // The deadline passed during the pause: check once more, then fail above.
            }
        }
    }

    /// <summary>A token cancelled after <paramref name="deadline"/> or when the test is cancelled, for waits of a test's own.</summary>
    /// <param name="deadline">How long the wait may take.</param>
    /// <returns>The source; dispose it.</returns>
    public static CancellationTokenSource Within(TimeSpan deadline)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(deadline);
        return source;
    }
}
