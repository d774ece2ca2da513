using System.Collections.Immutable;
using System.Text.Json;

namespace AsyncMcp.Tasks;

/// <summary>
/// Everything a worker needs to answer <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c> for a durable
/// task, and to run the task again on another worker: one item of an <see cref="ITaskStore"/>.
/// </summary>
/// <remarks>
/// Records are immutable; change one with a <see langword="with"/> expression and write it back with
/// <see cref="ITaskStore.UpdateAsync"/>. The store stamps <see cref="CreatedAt"/>, <see cref="LastUpdatedAt"/> and
/// <see cref="Version"/>, and keeps <see cref="TaskId"/>, <see cref="OwnerId"/>, <see cref="CreatedAt"/> and
/// <see cref="ToolCall"/> as they were created. JSON values are stored as written, so they round-trip exactly.
/// </remarks>
public sealed record TaskRecord
{
    /// <summary>The task id, unguessable (see <see cref="TaskIds.NewId"/>): whoever knows it may poll the task unless <see cref="OwnerId"/> binds it.</summary>
    public required string TaskId { get; init; }

    /// <summary>
    /// The identity of the client that created the task (an authenticated principal, a verified webhook identity or an
    /// AsyncMcp client id), or <see langword="null"/> when there is none and the id alone is the bearer token.
    /// </summary>
    public string? OwnerId { get; init; }

    /// <summary>The status.</summary>
    public TaskRecordStatus Status { get; init; } = TaskRecordStatus.Working;

    /// <summary>A human-readable message about the status, shown in <c>tasks/get</c>.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>The task's last reported progress, or <see langword="null"/> when none was reported.</summary>
    public TaskRecordProgress? Progress { get; init; }

    /// <summary>When the task was created; stamped by the store.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the task last changed; stamped by the store on every write.</summary>
    public DateTimeOffset LastUpdatedAt { get; init; }

    /// <summary>How long the task is kept, in milliseconds from <see cref="CreatedAt"/>; <see langword="null"/> keeps it until deleted. Must be positive.</summary>
    public long? TtlMs { get; init; }

    /// <summary>When the task expires (<see cref="CreatedAt"/> + <see cref="TtlMs"/>): from then on the store treats it as absent.</summary>
    public DateTimeOffset? ExpiresAt => TtlMs is { } ttl ? CreatedAt.AddMilliseconds(ttl) : null;

    /// <summary>How often clients should poll, in milliseconds; <see langword="null"/> gives no hint. Must be positive.</summary>
    public long? PollIntervalMs { get; init; }

    /// <summary>The <c>tools/call</c> request that created the task, kept so that another worker can run it again.</summary>
    public required TaskToolCall ToolCall { get; init; }

    /// <summary>The tool's result (a <c>CallToolResult</c> object) once the task is <see cref="TaskRecordStatus.Completed"/>.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>The JSON-RPC error object (<c>{code, message, data?}</c>) once the task is <see cref="TaskRecordStatus.Failed"/>.</summary>
    public JsonElement? Error { get; init; }

    /// <summary>
    /// The outstanding input requests by key (for example <c>input-1</c>), each a request object such as
    /// <c>{"method":"elicitation/create","params":{...}}</c>. Non-empty exactly when the status is
    /// <see cref="TaskRecordStatus.InputRequired"/>.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> InputRequests { get; init; } = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>The answers received by key; a key moves here from <see cref="InputRequests"/> when it is answered, and stays, so that a re-run can reuse it.</summary>
    public IReadOnlyDictionary<string, JsonElement> InputResponses { get; init; } = ImmutableDictionary<string, JsonElement>.Empty;

    /// <summary>Whether a client asked to cancel the task; the worker running it stops cooperatively.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The version for optimistic concurrency: 1 when created, one more on every write; stamped by the store.</summary>
    public long Version { get; init; }

    /// <summary>Whether the task has expired at <paramref name="now"/>.</summary>
    /// <param name="now">The current time.</param>
    /// <returns><see langword="true"/> when <see cref="ExpiresAt"/> is at or before <paramref name="now"/>.</returns>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expiresAt && expiresAt <= now;

    /// <summary>
    /// Whether a caller may see the task: a task without an owner is visible to whoever knows its id; one with an owner
    /// only to that identity. Answer a caller that may not see it exactly as for an unknown id.
    /// </summary>
    /// <param name="callerId">The caller's identity, or <see langword="null"/> when it has none.</param>
    /// <returns><see langword="true"/> when the caller may see the task.</returns>
    public bool IsVisibleTo(string? callerId) => OwnerId is null || string.Equals(OwnerId, callerId, StringComparison.Ordinal);
}

/// <summary>The tool call a task runs: what another worker needs to run it again.</summary>
/// <param name="Name">The tool's name.</param>
/// <param name="Arguments">The arguments object, or <see langword="null"/> when the call had none.</param>
/// <param name="Meta">
/// The request's <c>_meta</c> object, or <see langword="null"/>: on protocol revision 2026-07-28 it carries the
/// creating client's protocol version, client info and capabilities, which decide what input the task may request.
/// </param>
/// <param name="InputResponses">
/// The request's <c>inputResponses</c> object, or <see langword="null"/>: answers the tool asked for with an
/// <c>input_required</c> result before the call became a task, which the tool reads again when the task runs.
/// </param>
/// <param name="RequestState">The request's <c>requestState</c>, echoed with those answers, or <see langword="null"/>.</param>
public sealed record TaskToolCall(string Name, JsonElement? Arguments = null, JsonElement? Meta = null, JsonElement? InputResponses = null, string? RequestState = null);

/// <summary>A task's progress.</summary>
/// <param name="Progress">The progress so far.</param>
/// <param name="Total">The total, when known.</param>
/// <param name="Message">A message about the progress.</param>
public sealed record TaskRecordProgress(double Progress, double? Total = null, string? Message = null);
