using System.Globalization;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Tasks;

/// <summary>
/// An <see cref="ITaskStore"/> in a DynamoDB table, shared by every worker and surviving their restarts. Every write
/// is a conditional write: on the record's version (<see cref="ITaskStore.UpdateAsync"/>, and the read-modify-writes
/// behind progress, cancel requests and input), or on the task not being terminal (<see cref="ITaskStore.CompleteAsync"/>,
/// so the first result is the one recorded). Expired tasks are filtered out of reads and writes at once; DynamoDB's
/// TTL deletes them later (typically within days).
/// </summary>
/// <remarks>
/// A task item holds at most 400 KB (DynamoDB's item limit), arguments, result and input included; a larger write
/// throws <see cref="TaskRecordTooLargeException"/> and changes nothing. The table needs the IAM actions
/// <c>dynamodb:GetItem</c>, <c>dynamodb:PutItem</c>, <c>dynamodb:UpdateItem</c> and <c>dynamodb:DeleteItem</c>.
/// </remarks>
public sealed partial class DynamoDbTaskStore : ITaskStore
{
    private const string IdName = "#id";
    private const string VersionName = "#version";
    private const string StatusName = "#status";
    private const string ExpiresName = "#expiresAtMs";
    private const string CreatedName = "#createdAt";
    private const string LiveCondition = $"attribute_exists({IdName}) AND (attribute_not_exists({ExpiresName}) OR {ExpiresName} > :now)";
    private const string NonTerminalCondition = $"{StatusName} IN (:working, :inputRequired)";

    private readonly IAmazonDynamoDB _dynamo;
    private readonly string _tableName;
    private readonly DynamoDbTaskStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates the store; the table must exist (see <see cref="DynamoDbTaskTableProvisioner"/>).</summary>
    /// <param name="dynamo">The DynamoDB client; the caller disposes it.</param>
    /// <param name="options">The settings, validated here.</param>
    /// <param name="timeProvider">The clock for timestamps and expiry; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="ArgumentException">An option is missing or out of range; the message names it.</exception>
    public DynamoDbTaskStore(IAmazonDynamoDB dynamo, DynamoDbTaskStoreOptions options, TimeProvider? timeProvider = null, ILogger<DynamoDbTaskStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dynamo);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dynamo = dynamo;
        _options = options;
        _tableName = options.TableName!;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<DynamoDbTaskStore>.Instance;
    }

    /// <inheritdoc />
    public async ValueTask<TaskWriteResult> CreateAsync(TaskRecord record, CancellationToken cancellationToken = default)
    {
        var now = _timeProvider.GetUtcNow();
        var created = TaskRecordChanges.ForCreate(record, now);
        var item = TaskTableLayout.ToItem(created);
        CheckSize(created.TaskId, item);
        try
        {
            await CallAsync(
                created.TaskId,
                () => _dynamo.PutItemAsync(
                    new PutItemRequest
                    {
                        TableName = _tableName,
                        Item = item,

                        // A leftover of an expired task that DynamoDB has not swept yet does not hold its id.
                        ConditionExpression = $"attribute_not_exists({IdName}) OR {ExpiresName} <= :now",
                        ExpressionAttributeNames = new() { [IdName] = TaskTableLayout.TaskId, [ExpiresName] = TaskTableLayout.ExpiresAtMs },
                        ExpressionAttributeValues = new() { [":now"] = Millis(now) },
                    },
                    cancellationToken)).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            return TaskWriteResult.AlreadyExists;
        }

        return TaskWriteResult.Written(created);
    }

    /// <inheritdoc />
    public async ValueTask<TaskRecord?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        var record = await ReadAsync(taskId, _options.ConsistentReads, cancellationToken).ConfigureAwait(false);
        return record is not null && !record.IsExpiredAt(_timeProvider.GetUtcNow()) ? record : null;
    }

    /// <inheritdoc />
    public async ValueTask<TaskWriteResult> UpdateAsync(TaskRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!TaskIds.IsPlausible(record.TaskId))
        {
            return TaskWriteResult.NotFound;
        }

        var next = TaskRecordChanges.Next(record, _timeProvider.GetUtcNow());
        return await WriteIfVersionAsync(next, record.Version, record.CreatedAt, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TaskWriteResult> CompleteAsync(string taskId, TaskCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(completion);
        if (!TaskIds.IsPlausible(taskId))
        {
            return TaskWriteResult.NotFound;
        }

        var now = _timeProvider.GetUtcNow();
        var names = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [IdName] = TaskTableLayout.TaskId,
            [ExpiresName] = TaskTableLayout.ExpiresAtMs,
            [StatusName] = TaskTableLayout.Status,
            [VersionName] = TaskTableLayout.Version,
            ["#updated"] = TaskTableLayout.LastUpdatedAt,
            ["#inputRequests"] = TaskTableLayout.InputRequests,
            ["#message"] = TaskTableLayout.StatusMessage,
        };
        var values = NonTerminalValues(now);
        values[":status"] = new AttributeValue { S = completion.Status.ToWireValue() };
        values[":one"] = new AttributeValue { N = "1" };
        var set = $"SET {StatusName} = :status, {VersionName} = {VersionName} + :one, #updated = :now";
        var remove = new List<string> { "#inputRequests" };
        if (completion.StatusMessage is { } message)
        {
            set += ", #message = :message";
            values[":message"] = new AttributeValue { S = message };
        }
        else
        {
            remove.Add("#message");
        }

        if ((completion.Result ?? completion.Error) is { } outcome)
        {
            var attribute = completion.Result is not null ? TaskTableLayout.Result : TaskTableLayout.Error;
            names["#outcome"] = attribute;
            values[":outcome"] = new AttributeValue { S = outcome.GetRawText() };
            set += ", #outcome = :outcome";

            // Only the result is known here; DynamoDB refuses the write if the whole item grows too large.
            CheckSize(taskId, new Dictionary<string, AttributeValue>(TaskTableLayout.Key(taskId)) { [attribute] = values[":outcome"] });
        }

        try
        {
            var response = await CallAsync(
                taskId,
                () => _dynamo.UpdateItemAsync(
                    new UpdateItemRequest
                    {
                        TableName = _tableName,
                        Key = TaskTableLayout.Key(taskId),
                        UpdateExpression = $"{set} REMOVE {string.Join(", ", remove)}",
                        ConditionExpression = $"{LiveCondition} AND {NonTerminalCondition}",
                        ExpressionAttributeNames = names,
                        ExpressionAttributeValues = values,
                        ReturnValues = ReturnValue.ALL_NEW,
                    },
                    cancellationToken)).ConfigureAwait(false);
            return TaskWriteResult.Written(TaskTableLayout.FromItem(response.Attributes));
        }
        catch (ConditionalCheckFailedException)
        {
            return await ExplainRefusalAsync(taskId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> ReportProgressAsync(string taskId, string? statusMessage, TaskRecordProgress? progress, CancellationToken cancellationToken = default) =>
        MutateAsync(taskId, (stored, now) => TaskRecordChanges.ReportProgress(stored, statusMessage, progress, now), cancellationToken);

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> RequestCancelAsync(string taskId, CancellationToken cancellationToken = default) =>
        MutateAsync(taskId, TaskRecordChanges.RequestCancel, cancellationToken);

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> AddInputRequestsAsync(string taskId, IReadOnlyDictionary<string, JsonElement> requests, CancellationToken cancellationToken = default)
    {
        TaskRecordChanges.ValidateInputRequests(requests);
        return MutateAsync(taskId, (stored, now) => TaskRecordChanges.AddInputRequests(stored, requests, now), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<TaskWriteResult> RecordInputResponsesAsync(string taskId, IReadOnlyDictionary<string, JsonElement> responses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(responses);
        return MutateAsync(taskId, (stored, now) => TaskRecordChanges.RecordInputResponses(stored, responses, now), cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string taskId, CancellationToken cancellationToken = default)
    {
        if (!TaskIds.IsPlausible(taskId))
        {
            return false;
        }

        var response = await CallAsync(
            taskId,
            () => _dynamo.DeleteItemAsync(
                new DeleteItemRequest { TableName = _tableName, Key = TaskTableLayout.Key(taskId), ReturnValues = ReturnValue.ALL_OLD },
                cancellationToken)).ConfigureAwait(false);
        return response.Attributes is { Count: > 0 } old && !TaskTableLayout.FromItem(old).IsExpiredAt(_timeProvider.GetUtcNow());
    }

    private async ValueTask<TaskRecord?> ReadAsync(string taskId, bool consistent, CancellationToken cancellationToken)
    {
        if (!TaskIds.IsPlausible(taskId))
        {
            return null;
        }

        var response = await CallAsync(
            taskId,
            () => _dynamo.GetItemAsync(
                new GetItemRequest { TableName = _tableName, Key = TaskTableLayout.Key(taskId), ConsistentRead = consistent },
                cancellationToken)).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? TaskTableLayout.FromItem(item) : null;
    }

    /// <summary>Reads the task, changes it and writes it back if nobody wrote in between, trying again when somebody did.</summary>
    private async ValueTask<TaskWriteResult> MutateAsync(string taskId, Func<TaskRecord, DateTimeOffset, TaskRecord> change, CancellationToken cancellationToken)
    {
        TaskWriteResult? last = null;
        for (var attempt = 0; attempt < _options.MaxWriteAttempts; attempt++)
        {
            var stored = await ReadAsync(taskId, consistent: true, cancellationToken).ConfigureAwait(false);
            var now = _timeProvider.GetUtcNow();
            if (stored is null || stored.IsExpiredAt(now))
            {
                return TaskWriteResult.NotFound;
            }

            if (stored.Status.IsTerminal())
            {
                return TaskWriteResult.Terminal(stored);
            }

            var next = change(stored, now);
            if (ReferenceEquals(next, stored))
            {
                return TaskWriteResult.Written(stored);
            }

            CheckSize(taskId, TaskTableLayout.ToItem(next));
            last = await WriteIfVersionAsync(next, stored.Version, stored.CreatedAt, cancellationToken).ConfigureAwait(false);
            if (last.Outcome != TaskWriteOutcome.VersionConflict)
            {
                return last;
            }
        }

        LogContended(taskId, _options.MaxWriteAttempts);
        return last!;
    }

    /// <summary>Writes the changeable attributes of <paramref name="next"/> if the stored task still has <paramref name="expectedVersion"/>.</summary>
    private async ValueTask<TaskWriteResult> WriteIfVersionAsync(TaskRecord next, long expectedVersion, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        var item = TaskTableLayout.ToItem(next);
        CheckSize(next.TaskId, item);
        var now = _timeProvider.GetUtcNow();
        var names = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [IdName] = TaskTableLayout.TaskId,
            [ExpiresName] = TaskTableLayout.ExpiresAtMs,
            [StatusName] = TaskTableLayout.Status,
            [VersionName] = TaskTableLayout.Version,
            [CreatedName] = TaskTableLayout.CreatedAt,
        };
        var values = NonTerminalValues(now);
        values[":expected"] = new AttributeValue { N = expectedVersion.ToString(CultureInfo.InvariantCulture) };
        values[":created"] = Millis(createdAt);
        var set = new List<string>();
        var remove = new List<string>();
        for (var i = 0; i < TaskTableLayout.Mutable.Length; i++)
        {
            var attribute = TaskTableLayout.Mutable[i];
            var placeholder = "#a" + i.ToString(CultureInfo.InvariantCulture);
            names[placeholder] = attribute;
            if (item.TryGetValue(attribute, out var value))
            {
                values[":a" + i.ToString(CultureInfo.InvariantCulture)] = value;
                set.Add($"{placeholder} = :a{i.ToString(CultureInfo.InvariantCulture)}");
            }
            else
            {
                remove.Add(placeholder);
            }
        }

        var update = "SET " + string.Join(", ", set) + (remove.Count > 0 ? " REMOVE " + string.Join(", ", remove) : string.Empty);
        try
        {
            var response = await CallAsync(
                next.TaskId,
                () => _dynamo.UpdateItemAsync(
                    new UpdateItemRequest
                    {
                        TableName = _tableName,
                        Key = TaskTableLayout.Key(next.TaskId),
                        UpdateExpression = update,
                        ConditionExpression = $"{LiveCondition} AND {NonTerminalCondition} AND {VersionName} = :expected AND {CreatedName} = :created",
                        ExpressionAttributeNames = names,
                        ExpressionAttributeValues = values,
                        ReturnValues = ReturnValue.ALL_NEW,
                    },
                    cancellationToken)).ConfigureAwait(false);
            return TaskWriteResult.Written(TaskTableLayout.FromItem(response.Attributes));
        }
        catch (ConditionalCheckFailedException)
        {
            return await ExplainRefusalAsync(next.TaskId, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Says why a conditional write was refused, from the task as it is now.</summary>
    private async ValueTask<TaskWriteResult> ExplainRefusalAsync(string taskId, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(taskId, consistent: true, cancellationToken).ConfigureAwait(false);
        if (current is null || current.IsExpiredAt(_timeProvider.GetUtcNow()))
        {
            return TaskWriteResult.NotFound;
        }

        return current.Status.IsTerminal() ? TaskWriteResult.Terminal(current) : TaskWriteResult.Conflict(current);
    }

    private static Dictionary<string, AttributeValue> NonTerminalValues(DateTimeOffset now) => new(StringComparer.Ordinal)
    {
        [":now"] = Millis(now),
        [":working"] = new AttributeValue { S = TaskRecordStatus.Working.ToWireValue() },
        [":inputRequired"] = new AttributeValue { S = TaskRecordStatus.InputRequired.ToWireValue() },
    };

    private static AttributeValue Millis(DateTimeOffset time) => new() { N = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) };

    private static void CheckSize(string taskId, Dictionary<string, AttributeValue> item)
    {
        var size = TaskTableLayout.SizeOf(item);
        if (size > TaskTableLayout.MaxItemBytes)
        {
            throw new TaskRecordTooLargeException(taskId, size, TaskTableLayout.MaxItemBytes);
        }
    }

    /// <summary>Calls DynamoDB, turning a missing table and an oversized item into errors that say what to do.</summary>
    private async Task<T> CallAsync<T>(string taskId, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ResourceNotFoundException ex)
        {
            throw new InvalidOperationException(
                $"The DynamoDB table '{_tableName}' named by {nameof(DynamoDbTaskStoreOptions)}.{nameof(DynamoDbTaskStoreOptions.TableName)} does not exist " +
                $"or is not active in this account and region; create it with {nameof(DynamoDbTaskTableProvisioner)} ('asyncmcp provision').",
                ex);
        }
        catch (AmazonDynamoDBException ex) when (ex.ErrorCode == "ValidationException" && ex.Message.Contains("maximum allowed size", StringComparison.OrdinalIgnoreCase))
        {
            throw new TaskRecordTooLargeException(
                $"The record of task {taskId} would exceed DynamoDB's item limit of {TaskTableLayout.MaxItemBytes} bytes; nothing was written.", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} changed under every one of {Attempts} read-modify-write attempts; the write was given up as a version conflict.")]
    private partial void LogContended(string taskId, int attempts);
}
