namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// How a server takes part when several servers (workers) receive from one queue: each has a queue of its own where its
/// sessions' messages come, its session ids name it, and what it creates for itself is held by a lease the others can
/// see. See docs/deployment.md.
/// </summary>
public sealed class WorkerOptions
{
    /// <summary>
    /// Whether this server is one of possibly several workers on its queue. When <see langword="true"/> (default) it
    /// creates its own queue at start (named after the request queue: <c>&lt;name&gt;-w-&lt;worker id&gt;</c>) and
    /// removes it on a clean stop, so any number of servers can share one queue with their sessions intact. When
    /// <see langword="false"/>, sessions live only in this process and the queue must have one server.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>This worker's id: 8 lowercase hexadecimal digits. Default: new random digits at each start.</summary>
    public string? WorkerId { get; set; }

    /// <summary>
    /// How long this worker's lease on its queue lasts without renewal; it is renewed every third of it. Once it has run
    /// out, the other workers take the worker for gone: its sessions are lost (their clients are told so) and its queue
    /// is removed. Default 10 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the settings, throwing an exception that names the first bad option.</summary>
    /// <param name="owner">The options class that holds these, for messages.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate(string owner)
    {
        if (WorkerId is { } id && !WorkerNames.IsWorkerId(id))
        {
            throw new ArgumentException($"{owner}.Workers.WorkerId must be 8 lowercase hexadecimal digits (was '{id}').");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(3) || LeaseDuration > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"{owner}.Workers.LeaseDuration must be from 3 seconds to 10 minutes (was {LeaseDuration}).");
        }
    }
}
