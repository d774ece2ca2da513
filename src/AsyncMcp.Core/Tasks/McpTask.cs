using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// The fields every task carries (the extension's <c>Task</c>): its id, status, timestamps, time to live and poll interval.
/// </summary>
/// <remarks>
/// Derived types are the results that carry a task: <see cref="CreateTaskResult"/> (the handle a <c>tools/call</c>
/// answers with) and <see cref="DetailedTask"/> (the answer to <c>tasks/get</c>).
/// </remarks>
public abstract class McpTask : Result
{
    /// <summary>Initializes the task fields of a derived result.</summary>
    private protected McpTask()
    {
    }

    /// <summary>Gets or sets the task id, unguessable and bound to the client that created the task.</summary>
    [JsonPropertyName("taskId")]
    public required string TaskId { get; set; }

    /// <summary>Gets or sets the current status.</summary>
    [JsonPropertyName("status")]
    public required McpTaskStatus Status { get; set; }

    /// <summary>Gets or sets an optional human-readable message about the current status (progress, reason, summary).</summary>
    [JsonPropertyName("statusMessage")]
    public string? StatusMessage { get; set; }

    /// <summary>Gets or sets when the task was created (an ISO 8601 timestamp on the wire).</summary>
    [JsonPropertyName("createdAt")]
    [JsonConverter(typeof(Iso8601TimestampConverter))]
    public required DateTimeOffset CreatedAt { get; set; }

    /// <summary>Gets or sets when the task was last updated (an ISO 8601 timestamp on the wire).</summary>
    [JsonPropertyName("lastUpdatedAt")]
    [JsonConverter(typeof(Iso8601TimestampConverter))]
    public required DateTimeOffset LastUpdatedAt { get; set; }

    /// <summary>
    /// Gets or sets how long after <see cref="CreatedAt"/> the server keeps the task (<c>ttlMs</c>, integer milliseconds);
    /// <see langword="null"/> for unlimited. The member is always written, as <c>null</c> when unlimited, and must be
    /// present when read. It may change over the task's life.
    /// </summary>
    [JsonPropertyName("ttlMs")]
    [JsonConverter(typeof(TimeSpanMillisecondsConverter))]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    [JsonRequired]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>
    /// Gets or sets the suggested interval between two <c>tasks/get</c> polls (<c>pollIntervalMs</c>, integer
    /// milliseconds), which clients should honour; it may change over the task's life.
    /// </summary>
    [JsonPropertyName("pollIntervalMs")]
    [JsonConverter(typeof(TimeSpanMillisecondsConverter))]
    public TimeSpan? PollInterval { get; set; }
}
