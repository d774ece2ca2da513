namespace AsyncMcp.Messaging;

/// <summary>How sends are retried when the broker fails in a way that may pass (throttling, 5xx, a lost connection).</summary>
public sealed class SendRetryOptions
{
    /// <summary>Attempts in all, including the first. 1 turns retries off. Default 6.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The delay before the first retry; later ones double, with jitter. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between attempts. Default 5 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When set, no retry starts once this much time has passed since the first attempt, whatever
    /// <see cref="MaxAttempts"/> allows; the caller's cancellation ends the retries earlier. Default
    /// <see langword="null"/>: only <see cref="MaxAttempts"/> bounds them.
    /// </summary>
    public TimeSpan? MaxRetryTime { get; set; }

    /// <summary>
    /// The settings of the queue transports (SQS, SNS+SQS): retries for up to 60 seconds, so that a send rides out a
    /// broker that restarts (a lost connection fails at once, so attempts alone would run out within seconds).
    /// </summary>
    /// <returns>New settings: unlimited attempts, 200 ms to 5 s apart, for at most 60 seconds.</returns>
    public static SendRetryOptions ForQueues() => new() { MaxAttempts = int.MaxValue, MaxRetryTime = TimeSpan.FromSeconds(60) };

    /// <summary>Checks the settings.</summary>
    /// <param name="owner">The options class that holds these settings, for error messages.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate(string owner)
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"{owner}.SendRetry.MaxAttempts must be at least 1 (was {MaxAttempts}).");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentException($"{owner}.SendRetry delays must satisfy 0 <= BaseDelay <= MaxDelay (were {BaseDelay} and {MaxDelay}).");
        }

        if (MaxRetryTime is { } limit && limit <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{owner}.SendRetry.MaxRetryTime must be positive when set (was {limit}).");
        }
    }
}
