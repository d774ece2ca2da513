using System.Text.Json;

namespace AsyncMcp.Tasks;

/// <summary>
/// Where durable tasks live: shared by every worker that may answer for a task and surviving their restarts
/// (DynamoDB in production; <see cref="InMemoryTaskStore"/> for one process).
/// </summary>
/// <remarks>
/// <para>
/// Every write is atomic and conditional. <see cref="UpdateAsync"/> writes only if the record's
/// <see cref="TaskRecord.Version"/> is still the stored one (optimistic concurrency). <see cref="CompleteAsync"/> writes
/// only if the task is not yet terminal, whatever its version, so the first completion wins and its result is the one
/// recorded, even when a task ran twice on two workers. No write changes a terminal task.
/// </para>
/// <para>
/// A task whose <see cref="TaskRecord.ExpiresAt"/> has passed is absent for every operation, even before the backend
/// deletes it. Task ids that cannot name a task (see <see cref="TaskIds.IsPlausible"/>) are answered as unknown, never
/// with an exception, because they come from clients. Stores do not check <see cref="TaskRecord.OwnerId"/>: callers
/// compare it with <see cref="TaskRecord.IsVisibleTo"/>.
/// </para>
/// </remarks>
public interface ITaskStore
{
    /// <summary>
    /// Stores a new task, durably: once this returns, <see cref="GetAsync"/> on any worker finds it. The store stamps
    /// <see cref="TaskRecord.CreatedAt"/>, <see cref="TaskRecord.LastUpdatedAt"/> and <see cref="TaskRecord.Version"/> (1).
    /// </summary>
    /// <param name="record">The task, <see cref="TaskRecordStatus.Working"/> or <see cref="TaskRecordStatus.InputRequired"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="TaskWriteOutcome.Written"/> with the stored record, or <see cref="TaskWriteOutcome.AlreadyExists"/>.</returns>
    /// <exception cref="ArgumentException">The record is not a valid new task.</exception>
    /// <exception cref="TaskRecordTooLargeException">The record is too large for the store.</exception>
    ValueTask<TaskWriteResult> CreateAsync(TaskRecord record, CancellationToken cancellationToken = default);

    /// <summary>Reads a task.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The task, or <see langword="null"/> when it does not exist or has expired.</returns>
    ValueTask<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a changed record if nobody changed it since it was read: its <see cref="TaskRecord.Version"/> must be the
    /// stored one. Status, status message, progress, TTL, poll interval, input requests and responses and the cancel
    /// flag are written; the id, owner, creation time and tool call stay as created.
    /// </summary>
    /// <param name="record">The record as read, changed with a <see langword="with"/> expression.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see cref="TaskWriteOutcome.Written"/>, <see cref="TaskWriteOutcome.VersionConflict"/> with the current record,
    /// <see cref="TaskWriteOutcome.Terminal"/> when the task already ended, or <see cref="TaskWriteOutcome.NotFound"/>.
    /// </returns>
    /// <exception cref="ArgumentException">The record breaks a rule (a completed task without a result, input required without requests, ...).</exception>
    /// <exception cref="TaskRecordTooLargeException">The record is too large for the store.</exception>
    ValueTask<TaskWriteResult> UpdateAsync(TaskRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a task once: records the terminal status and its result or error only if the task is not terminal yet.
    /// Outstanding input requests are dropped.
    /// </summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="completion">How the task ended.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>
    /// <see cref="TaskWriteOutcome.Written"/> when this call ended the task; <see cref="TaskWriteOutcome.Terminal"/> with
    /// the record as the first completion left it; or <see cref="TaskWriteOutcome.NotFound"/>.
    /// </returns>
    /// <exception cref="TaskRecordTooLargeException">The result is too large for the store; the task is unchanged.</exception>
    ValueTask<TaskWriteResult> CompleteAsync(string taskId, TaskCompletion completion, CancellationToken cancellationToken = default);

    /// <summary>Sets the task's status message and progress, if the task is not terminal.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="statusMessage">The status message, or <see langword="null"/> to keep the current one.</param>
    /// <param name="progress">The progress, or <see langword="null"/> to keep the current one.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="TaskWriteOutcome.Written"/>, <see cref="TaskWriteOutcome.Terminal"/>, <see cref="TaskWriteOutcome.NotFound"/>, or <see cref="TaskWriteOutcome.VersionConflict"/> after repeated contention.</returns>
    ValueTask<TaskWriteResult> ReportProgressAsync(string taskId, string? statusMessage, TaskRecordProgress? progress, CancellationToken cancellationToken = default);

    /// <summary>Records that a client asked to cancel the task, if it is not terminal; the worker running it sees <see cref="TaskRecord.CancelRequested"/>.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="TaskWriteOutcome.Written"/>, <see cref="TaskWriteOutcome.Terminal"/>, <see cref="TaskWriteOutcome.NotFound"/>, or <see cref="TaskWriteOutcome.VersionConflict"/> after repeated contention.</returns>
    ValueTask<TaskWriteResult> RequestCancelAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds outstanding input requests and moves the task to <see cref="TaskRecordStatus.InputRequired"/>. Adding a key
    /// again with the same request changes nothing (a task run again on another worker asks again); a key is never
    /// reused for a different request.
    /// </summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="requests">The requests by key, each an object such as <c>{"method":"elicitation/create","params":{...}}</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="TaskWriteOutcome.Written"/>, <see cref="TaskWriteOutcome.Terminal"/>, <see cref="TaskWriteOutcome.NotFound"/>, or <see cref="TaskWriteOutcome.VersionConflict"/> after repeated contention.</returns>
    /// <exception cref="ArgumentException">No requests, a request is not an object, or a key was used for a different request.</exception>
    ValueTask<TaskWriteResult> AddInputRequestsAsync(string taskId, IReadOnlyDictionary<string, JsonElement> requests, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records answers to outstanding input requests, atomically: each answered key moves from
    /// <see cref="TaskRecord.InputRequests"/> to <see cref="TaskRecord.InputResponses"/>; answers to keys that are not
    /// outstanding are ignored; when none remain outstanding the task is <see cref="TaskRecordStatus.Working"/> again.
    /// </summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="responses">The answers by key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="TaskWriteOutcome.Written"/> (also when no key was outstanding), <see cref="TaskWriteOutcome.Terminal"/>, <see cref="TaskWriteOutcome.NotFound"/>, or <see cref="TaskWriteOutcome.VersionConflict"/> after repeated contention.</returns>
    ValueTask<TaskWriteResult> RecordInputResponsesAsync(string taskId, IReadOnlyDictionary<string, JsonElement> responses, CancellationToken cancellationToken = default);

    /// <summary>Deletes a task.</summary>
    /// <param name="taskId">The task id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when a task (not yet expired) was deleted.</returns>
    ValueTask<bool> DeleteAsync(string taskId, CancellationToken cancellationToken = default);
}
