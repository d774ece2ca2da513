using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// ResultOrAlternate and the alternate-result filter are the SDK's (experimental) hooks for this extension.
#pragma warning disable MCPEXP002

namespace AsyncMcp.Tasks;

/// <summary>
/// The server side of the Tasks extension: turns an opted-in <c>tools/call</c> into a task recorded in the store with its
/// work queued for a worker (<see cref="McpTaskWorker"/>), and answers <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c>
/// from the store.
/// </summary>
internal sealed partial class TaskRuntime
{
    private static readonly JsonTypeInfo<IDictionary<string, JsonElement>> s_arguments =
        (JsonTypeInfo<IDictionary<string, JsonElement>>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, JsonElement>));

    private static readonly JsonTypeInfo<InputRequest> s_inputRequest =
        (JsonTypeInfo<InputRequest>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InputRequest));

    private static readonly JsonTypeInfo<JsonRpcErrorDetail> s_errorDetail =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    private readonly TaskWorkContext _context;
    private readonly ITaskStore _store;
    private readonly FrozenSet<string> _taskTools;
    private readonly long? _ttlMs;
    private readonly ILogger _logger;

    public TaskRuntime(TaskWorkContext context, IEnumerable<string> taskTools, TimeSpan? timeToLive)
    {
        _context = context;
        _store = context.Store;
        _taskTools = taskTools.ToFrozenSet(StringComparer.Ordinal);
        _ttlMs = timeToLive is { } ttl ? Math.Max(1, (long)ttl.TotalMilliseconds) : null;
        _logger = context.LoggerFactory.CreateLogger<TaskRuntime>();
    }

    /// <summary>The <c>tools/call</c> filter: a task for an opted-in tool on a declaring 2026-07-28 request, else the ordinary call.</summary>
    public async ValueTask<ResultOrAlternate<CallToolResult>> CallToolAsync(
        RequestContext<CallToolRequestParams> request,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken cancellationToken)
    {
        if (request.Params is not { } parameters
            || request.MatchedPrimitive is null
            || !_taskTools.Contains(parameters.Name)
            || !McpTasks.IsDefinedFor(ProtocolVersionOf(request))
            || !Declares(request))
        {
            return await next(request, cancellationToken).ConfigureAwait(false);
        }

        var record = new TaskRecord
        {
            TaskId = TaskIds.NewId(),
            OwnerId = TaskOwner.Of(request.JsonRpcRequest),
            TtlMs = _ttlMs,
            PollIntervalMs = Math.Max(1, (long)_context.PollInterval.TotalMilliseconds),
            ToolCall = new TaskToolCall(
                parameters.Name,
                parameters.Arguments is { } arguments ? JsonSerializer.SerializeToElement(arguments, s_arguments) : null,
                parameters.Meta is { } meta ? JsonSerializer.SerializeToElement(meta, McpTasksJsonContext.Default.JsonNode) : null),
        };

        // The handle goes out only once the task is durably stored: a tasks/get right after it must find it.
        var created = await _store.CreateAsync(record, cancellationToken).ConfigureAwait(false);
        if (created is not { Succeeded: true, Record: { } stored })
        {
            throw new McpProtocolException($"The task for '{parameters.Name}' could not be created ({created.Outcome}).", McpErrorCode.InternalError);
        }

        try
        {
            await _context.Queue.EnqueueAsync(stored.TaskId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Nobody would ever run it: end it rather than leave a task that stays working until it expires.
            LogNotQueued(_logger, stored.TaskId, exception);
            await _store.CompleteAsync(stored.TaskId, TaskRun.Failure(McpErrorCode.InternalError, "The task's work could not be queued."), CancellationToken.None).ConfigureAwait(false);
            throw new McpProtocolException($"The task for '{parameters.Name}' could not be queued: {exception.Message}", McpErrorCode.InternalError);
        }

        LogTaskCreated(_logger, stored.TaskId, parameters.Name, stored.OwnerId);
        return ResultOrAlternate<CallToolResult>.FromAlternate(
            new CreateTaskResult
            {
                TaskId = stored.TaskId,
                Status = McpTaskStatus.Working,
                CreatedAt = stored.CreatedAt,
                LastUpdatedAt = stored.LastUpdatedAt,
                TimeToLive = ToTimeSpan(stored.TtlMs),
                PollInterval = ToTimeSpan(stored.PollIntervalMs),
            },
            McpTasksJsonContext.Default.CreateTaskResult);
    }

    /// <summary><c>tasks/get</c>: the task's state with the members of its status inlined.</summary>
    public async ValueTask<JsonNode?> GetAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var (taskId, _) = ReadTaskRequest(request);
        var record = await FindAsync(taskId, request, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.SerializeToNode(ToDetailedTask(record), McpTasksJsonContext.Default.DetailedTask);
    }

    /// <summary><c>tasks/update</c>: records answers to outstanding input requests, atomically, before acknowledging.</summary>
    public async ValueTask<JsonNode?> UpdateAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var (taskId, parameters) = ReadTaskRequest(request);
        if (parameters["inputResponses"] is not JsonObject inputResponses)
        {
            throw new McpProtocolException("tasks/update needs 'inputResponses', an object of answers by input request key.", McpErrorCode.InvalidParams);
        }

        _ = await FindAsync(taskId, request, cancellationToken).ConfigureAwait(false);
        var responses = inputResponses.ToDictionary(
            pair => pair.Key,
            pair => JsonSerializer.SerializeToElement(pair.Value, McpTasksJsonContext.Default.JsonNode),
            StringComparer.Ordinal);
        var written = await _store.RecordInputResponsesAsync(taskId, responses, cancellationToken).ConfigureAwait(false);
        if (written.Outcome == TaskWriteOutcome.NotFound)
        {
            throw UnknownTask();
        }

        _context.Signals.Pulse(taskId);
        return Acknowledgement();
    }

    /// <summary><c>tasks/cancel</c>: sets the task's cancel flag (its worker stops it: at once when here, else at its next read); a task that already ended is acknowledged unchanged.</summary>
    public async ValueTask<JsonNode?> CancelAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var (taskId, _) = ReadTaskRequest(request);
        _ = await FindAsync(taskId, request, cancellationToken).ConfigureAwait(false);
        var written = await _store.RequestCancelAsync(taskId, cancellationToken).ConfigureAwait(false);
        if (written.Outcome == TaskWriteOutcome.NotFound)
        {
            throw UnknownTask();
        }

        _context.Signals.Pulse(taskId);
        return Acknowledgement();
    }

    private async ValueTask<TaskRecord> FindAsync(string taskId, RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var record = await _store.GetAsync(taskId, cancellationToken).ConfigureAwait(false);

        // A task the caller may not see is answered exactly like one that does not exist.
        return record is not null && record.IsVisibleTo(TaskOwner.Of(request.JsonRpcRequest)) ? record : throw UnknownTask();
    }

    /// <summary>The checks every tasks/* request passes first, in the order the extension's conformance suite expects.</summary>
    private static (string TaskId, JsonObject Parameters) ReadTaskRequest(RequestContext<JsonNode?> request)
    {
        if (!McpTasks.IsDefinedFor(ProtocolVersionOf(request)))
        {
            throw new McpProtocolException($"Method '{request.JsonRpcRequest.Method}' is not available before protocol revision {McpTasks.MinimumProtocolVersion}.", McpErrorCode.MethodNotFound);
        }

        if (!Declares(request))
        {
            throw McpTasks.CreateMissingCapabilityException();
        }

        if (request.Params is not JsonObject parameters
            || parameters["taskId"] is not JsonValue id
            || !id.TryGetValue<string>(out var taskId)
            || taskId.Length == 0)
        {
            throw new McpProtocolException($"{request.JsonRpcRequest.Method} needs 'taskId', a non-empty string.", McpErrorCode.InvalidParams);
        }

        return (taskId, parameters);
    }

    private static string? ProtocolVersionOf(MessageContext request) =>
        request.JsonRpcMessage.Context?.ProtocolVersion ?? request.Server.NegotiatedProtocolVersion;

    /// <summary>Whether this request (on 2026-07-28, each request carries its own capabilities) declares the extension.</summary>
    private static bool Declares(MessageContext request) =>
        McpTasks.IsDeclaredBy(request.JsonRpcMessage.Context?.ClientCapabilities)
        || McpTasks.IsDeclaredBy(request.Server.ClientCapabilities);

    private static DetailedTask ToDetailedTask(TaskRecord record) => new()
    {
        TaskId = record.TaskId,
        Status = ToWireStatus(record.Status),
        StatusMessage = record.StatusMessage,
        CreatedAt = record.CreatedAt,
        LastUpdatedAt = record.LastUpdatedAt,
        TimeToLive = ToTimeSpan(record.TtlMs),
        PollInterval = ToTimeSpan(record.PollIntervalMs),
        InputRequests = record.Status == TaskRecordStatus.InputRequired
            ? record.InputRequests.ToDictionary(pair => pair.Key, pair => pair.Value.Deserialize(s_inputRequest)!, StringComparer.Ordinal)
            : null,
        Result = record.Status == TaskRecordStatus.Completed && record.Result is { } result
            ? JsonSerializer.SerializeToNode(result, McpTasksJsonContext.Default.JsonElement)!.AsObject()
            : null,
        Error = record.Status == TaskRecordStatus.Failed && record.Error is { } error ? error.Deserialize(s_errorDetail) : null,
    };

    private static McpTaskStatus ToWireStatus(TaskRecordStatus status) => status switch
    {
        TaskRecordStatus.Working => McpTaskStatus.Working,
        TaskRecordStatus.InputRequired => McpTaskStatus.InputRequired,
        TaskRecordStatus.Completed => McpTaskStatus.Completed,
        TaskRecordStatus.Failed => McpTaskStatus.Failed,
        _ => McpTaskStatus.Cancelled,
    };

    private static TimeSpan? ToTimeSpan(long? milliseconds) => milliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static JsonNode Acknowledgement() => JsonSerializer.SerializeToNode(new TaskAcknowledgement(), McpTasksJsonContext.Default.TaskAcknowledgement)!;

    private static McpProtocolException UnknownTask() => new("Failed to retrieve task: Task not found", McpTasks.UnknownTaskErrorCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} created for tool {ToolName} (owner {OwnerId}).")]
    private static partial void LogTaskCreated(ILogger logger, string taskId, string toolName, string? ownerId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The work of task {TaskId} could not be queued; the task is recorded as failed.")]
    private static partial void LogNotQueued(ILogger logger, string taskId, Exception exception);
}
