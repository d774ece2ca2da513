using System.Security.Cryptography;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// How workers, their queues and their sessions are named, so that the holder of a session is read off its id and the
/// queue that reaches a worker off the request queue's URL: no shared store is needed to route.
/// </summary>
internal static class WorkerNames
{
    /// <summary>The tag that names a worker queue's worker.</summary>
    public const string WorkerTag = "asyncmcp:worker";

    /// <summary>The tag that names the request queue a worker queue belongs to.</summary>
    public const string RequestQueueTag = "asyncmcp:request-queue";

    /// <summary>The tag that holds when the worker's lease ends, in Unix seconds.</summary>
    public const string LeaseTag = "asyncmcp:lease-expires";

    private const int WorkerIdLength = 8;
    private const int SessionRandomBytes = 12;
    private const string Infix = "-w-";
    private const string FifoSuffix = ".fifo";
    private const int MaxQueueNameLength = 80;

    /// <summary>A new random worker id.</summary>
    public static string NewWorkerId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(WorkerIdLength / 2));

    public static bool IsWorkerId(string value) => value.Length == WorkerIdLength && IsHex(value);

    private static bool IsHex(string value) => value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// A new session id held by <paramref name="workerId"/>: 32 lowercase hexadecimal digits, as every AsyncMcp and
    /// asyncmcp server mints them, of which the first 8 are the worker id and the other 24 are random (96 bits).
    /// </summary>
    public static string NewSessionId(string workerId) => workerId + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SessionRandomBytes));

    /// <summary>The worker a session id names, or <see langword="null"/> for an id of another form.</summary>
    public static string? WorkerOf(string sessionId) =>
        sessionId.Length == WorkerIdLength + (2 * SessionRandomBytes) && IsHex(sessionId) ? sessionId[..WorkerIdLength] : null;

    /// <summary>The name of the request queue a URL ends in.</summary>
    public static string QueueName(string queueUrl) => queueUrl[(queueUrl.TrimEnd('/').LastIndexOf('/') + 1)..].TrimEnd('/');

    /// <summary>What every worker queue of a request queue starts with (for listing them).</summary>
    public static string Prefix(string requestQueueName) => Base(requestQueueName) + Infix;

    /// <summary>The name of a worker's queue: the request queue's name (shortened to fit), <c>-w-</c>, the worker id, and <c>.fifo</c> when the request queue is FIFO.</summary>
    public static string WorkerQueueName(string requestQueueName, string workerId) =>
        Prefix(requestQueueName) + workerId + (IsFifo(requestQueueName) ? FifoSuffix : string.Empty);

    /// <summary>The URL of a worker's queue: beside the request queue (same account and region).</summary>
    public static string WorkerQueueUrl(string requestQueueUrl, string workerId)
    {
        var name = QueueName(requestQueueUrl);
        return requestQueueUrl[..requestQueueUrl.LastIndexOf(name, StringComparison.Ordinal)] + WorkerQueueName(name, workerId);
    }

    public static bool IsFifo(string queueName) => queueName.EndsWith(FifoSuffix, StringComparison.Ordinal);

    private static string Base(string requestQueueName)
    {
        var name = IsFifo(requestQueueName) ? requestQueueName[..^FifoSuffix.Length] : requestQueueName;
        var room = MaxQueueNameLength - Infix.Length - WorkerIdLength - FifoSuffix.Length;
        return name.Length > room ? name[..room] : name;
    }
}
