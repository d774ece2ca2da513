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
/// The server side of the Tasks extension: turns an opted-in <c>tools/call</c> into a task recorded in the store and
/// run in the background in this process, and answers <c>tasks/get</c>, <c>tasks/update</c> and <c>tasks/cancel</c>
/// from the store.
/// </summary>
internal sealed partial class TaskRuntime
{
    private static readonly JsonTypeInfo<IDictionary<string, JsonElement>> s_arguments =
        (JsonTypeInfo<IDictionary<string, JsonElement>>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, JsonElement>));

    private static readonly JsonTypeInfo<CallToolRequestParams> s_callToolParams =
        (JsonTypeInfo<CallToolRequestParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolRequestParams));

    private static readonly JsonTypeInfo<InputRequest> s_inputRequest =
        (JsonTypeInfo<InputRequest>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InputRequest));

    private static readonly JsonTypeInfo<JsonRpcErrorDetail> s_errorDetail =
        (JsonTypeInfo<JsonRpcErrorDetail>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcErrorDetail));

    private readonly ITaskStore _store;
    private readonly FrozenSet<string> _taskTools;
    private readonly Func<RequestContext<CallToolRequestParams>, McpTaskExecutionMode>? _executionModeSelector;
    private readonly long? _ttlMs;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    public TaskRuntime(McpTasksServerOptions options, ILoggerFactory? loggerFactory)
    {
        _store = options.ValidatedStore;
        _taskTools = options.TaskTools.ToFrozenSet(StringComparer.Ordinal);
        _executionModeSelector = options.ExecutionModeSelector;
        _ttlMs = options.DefaultTimeToLive is { } ttl ? Math.Max(1, (long)ttl.TotalMilliseconds) : null;
        _pollInterval = options.PollInterval;
        _logger = loggerFactory?.CreateLogger<TaskRuntime>() ?? NullLogger<TaskRuntime>.Instance;
    }

    /// <summary>The <c>tools/call</c> filter: a task for an opted-in tool on a declaring 2026-07-28 request, else the ordinary call.</summary>
    public async ValueTask<ResultOrAlternate<CallToolResult>> CallToolAsync(
        RequestContext<CallToolRequestParams> request,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken cancellationToken)
    {
        if (request.Params is not { } parameters
            || request.MatchedPrimitive is null)
        {
            return await next(request, cancellationToken).ConfigureAwait(false);
        }

        var mode = ExecutionModeOf(request, parameters);
        if (mode == McpTaskExecutionMode.Synchronous)
        {
            return await next(request, cancellationToken).ConfigureAwait(false);
        }

        if (!McpTasks.IsDefinedFor(ProtocolVersionOf(request)) || !Declares(request))
        {
            // A tool that only runs as a task is not run for a client that cannot follow one.
            return mode == McpTaskExecutionMode.Required
                ? throw McpTasks.CreateMissingCapabilityException()
                : await next(request, cancellationToken).ConfigureAwait(false);
        }

        var record = new TaskRecord
        {
            TaskId = TaskIds.NewId(),
            OwnerId = TaskOwner.Of(request.JsonRpcRequest),
            TtlMs = _ttlMs,
            PollIntervalMs = Math.Max(1, (long)_pollInterval.TotalMilliseconds),
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

        // The task has its own token: the request's ends when the handle is answered.
        var cancellation = new CancellationTokenSource();
        _running[stored.TaskId] = cancellation;
        LogTaskCreated(_logger, stored.TaskId, parameters.Name, stored.OwnerId);

        // The run's own service scope is made now, while the request's services still exist: the SDK's stateless HTTP
        // endpoint serves each request from the HTTP request's services, disposed as soon as the handle is answered.
        var scope = request.Server.Services?.GetService<IServiceScopeFactory>()?.CreateAsyncScope();
        _ = Task.Run(() => RunAsync(stored.TaskId, request, next, scope, cancellation), CancellationToken.None);

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

    private McpTaskExecutionMode ExecutionModeOf(RequestContext<CallToolRequestParams> request, CallToolRequestParams parameters) =>
        _executionModeSelector is { } select
            ? select(request)
            : _taskTools.Contains(parameters.Name) ? McpTaskExecutionMode.Optional : McpTaskExecutionMode.Synchronous;

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

        return Acknowledgement();
    }

    /// <summary><c>tasks/cancel</c>: sets the task's cancel flag and stops its run here; a task that already ended is acknowledged unchanged.</summary>
    public async ValueTask<JsonNode?> CancelAsync(RequestContext<JsonNode?> request, CancellationToken cancellationToken)
    {
        var (taskId, _) = ReadTaskRequest(request);
        _ = await FindAsync(taskId, request, cancellationToken).ConfigureAwait(false);
        var written = await _store.RequestCancelAsync(taskId, cancellationToken).ConfigureAwait(false);
        if (written.Outcome == TaskWriteOutcome.NotFound)
        {
            throw UnknownTask();
        }

        if (_running.TryGetValue(taskId, out var running))
        {
            await CancelQuietlyAsync(running).ConfigureAwait(false);
        }

        return Acknowledgement();
    }

    private async Task RunAsync(
        string taskId,
        RequestContext<CallToolRequestParams> request,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        AsyncServiceScope? scope,
        CancellationTokenSource cancellation)
    {
        var progressToken = new ProgressToken("task:" + taskId);
        var progress = new TaskProgressWriter(_store, taskId, _logger);
        using var watching = new CancellationTokenSource();
        var watch = WatchForCancelAsync(taskId, cancellation, watching.Token);
        TaskCompletion completion;
        try
        {
            try
            {
                var server = new TaskExecutionServer(request.Server, progressToken, progress);
                var background = new RequestContext<CallToolRequestParams>(server, request.JsonRpcRequest, WithProgressToken(request.Params!, progressToken))
                {
                    MatchedPrimitive = request.MatchedPrimitive,
                    Services = scope?.ServiceProvider ?? request.Services,
                };
                var outcome = await next(background, cancellation.Token).ConfigureAwait(false);
                completion = cancellation.IsCancellationRequested
                    ? TaskCompletion.Cancelled()
                    : outcome.IsAlternate
                        ? Failure(McpErrorCode.InternalError, "The tool answered with an alternate result, which a task cannot hold.")
                        : TaskCompletion.Completed(JsonSerializer.SerializeToElement(McpTasks.ToInlinedResult(outcome.Result!), McpTasksJsonContext.Default.JsonObject));
            }
            finally
            {
                if (scope is { } owned)
                {
                    await owned.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            completion = TaskCompletion.Cancelled();
        }
        catch (McpProtocolException exception)
        {
            completion = Failure(exception.ErrorCode, exception.Message);
        }
        catch (Exception exception)
        {
            LogTaskCrashed(_logger, taskId, exception);
            completion = Failure(McpErrorCode.InternalError, exception is InputRequiredException
                ? "The tool asked for input, which a running task cannot do yet."
                : "The task failed: " + exception.Message);
        }

        await CancelQuietlyAsync(watching).ConfigureAwait(false);
        await watch.ConfigureAwait(false);
        await progress.DrainAsync().ConfigureAwait(false);
        await CompleteAsync(taskId, completion).ConfigureAwait(false);
        _running.TryRemove(taskId, out _);
        cancellation.Dispose();
    }

    private async Task CompleteAsync(string taskId, TaskCompletion completion)
    {
        try
        {
            TaskWriteResult written;
            try
            {
                written = await _store.CompleteAsync(taskId, completion).ConfigureAwait(false);
            }
            catch (TaskRecordTooLargeException exception)
            {
                written = await _store.CompleteAsync(taskId, Failure(McpErrorCode.InternalError, exception.Message)).ConfigureAwait(false);
            }

            LogTaskEnded(_logger, taskId, written.Record?.Status ?? completion.Status, written.Outcome);
        }
        catch (Exception exception)
        {
            LogTaskNotRecorded(_logger, taskId, exception);
        }
    }

    /// <summary>Notices a cancel requested through another worker (or the task's expiry) by reading the store at the poll interval.</summary>
    private async Task WatchForCancelAsync(string taskId, CancellationTokenSource cancellation, CancellationToken stop)
    {
        try
        {
            while (!cancellation.IsCancellationRequested)
            {
                await Task.Delay(_pollInterval, stop).ConfigureAwait(false);
                var record = await _store.GetAsync(taskId, stop).ConfigureAwait(false);
                if (record is null || record.CancelRequested || record.Status.IsTerminal())
                {
                    await CancelQuietlyAsync(cancellation).ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogCancelWatchFailed(_logger, taskId, exception);
        }
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

    private static CallToolRequestParams WithProgressToken(CallToolRequestParams parameters, ProgressToken token)
    {
        // A copy: the request's own parameters stay as the client sent them. The task's token lets the SDK hand the tool an
        // IProgress whose reports the task's server view writes to the record.
        var copy = JsonSerializer.SerializeToNode(parameters, s_callToolParams)!.AsObject();
        if (copy["_meta"] is not JsonObject meta)
        {
            meta = new JsonObject();
            copy["_meta"] = meta;
        }

        meta["progressToken"] = token.ToString();
        return copy.Deserialize(s_callToolParams)!;
    }

    private static TaskCompletion Failure(McpErrorCode code, string message) =>
        TaskCompletion.Failed(JsonSerializer.SerializeToElement(new JsonRpcErrorDetail { Code = (int)code, Message = message }, s_errorDetail), message);

    private static TimeSpan? ToTimeSpan(long? milliseconds) => milliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static JsonNode Acknowledgement() => JsonSerializer.SerializeToNode(new TaskAcknowledgement(), McpTasksJsonContext.Default.TaskAcknowledgement)!;

    private static McpProtocolException UnknownTask() => new("Failed to retrieve task: Task not found", McpTasks.UnknownTaskErrorCode);

    private static async Task CancelQuietlyAsync(CancellationTokenSource source)
    {
        try
        {
            await source.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The run ended meanwhile: nothing left to cancel.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} created for tool {ToolName} (owner {OwnerId}).")]
    private static partial void LogTaskCreated(ILogger logger, string taskId, string toolName, string? ownerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} ended {Status} ({Outcome}).")]
    private static partial void LogTaskEnded(ILogger logger, string taskId, TaskRecordStatus status, TaskWriteOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} failed outside the tool's own error handling.")]
    private static partial void LogTaskCrashed(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The end of task {TaskId} could not be recorded in the task store; it stays unfinished until it expires.")]
    private static partial void LogTaskNotRecorded(ILogger logger, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} stopped watching the store for a cancel request.")]
    private static partial void LogCancelWatchFailed(ILogger logger, string taskId, Exception exception);
}
