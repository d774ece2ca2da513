using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// Calls tools as tasks of the MCP Tasks extension (<c>io.modelcontextprotocol/tasks</c>) and reads, waits for, answers
/// and cancels tasks by id.
/// </summary>
/// <remarks>
/// <para>
/// Every method takes what it needs as arguments and keeps nothing between calls, so a task started by one process can
/// be waited for, answered or cancelled by another (a new <see cref="McpClient"/>, a new connection) given only its id,
/// as long as the server lets that client see the task.
/// </para>
/// <para>
/// The extension is declared per request, on these methods' requests only, so that plain <c>CallToolAsync</c> calls are
/// never answered with a task. Do not set <c>McpClientOptions.Capabilities.Extensions</c> to a value that lacks
/// <see cref="McpTasks.ExtensionId"/>: the SDK copies the options' capabilities over each request's, member by member,
/// and a client-wide <c>extensions</c> object replaces the per-request declaration.
/// </para>
/// </remarks>
public static class McpClientTasksExtensions
{
    private static readonly JsonTypeInfo<CallToolRequestParams> s_callToolParams =
        (JsonTypeInfo<CallToolRequestParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolRequestParams));

    private static readonly JsonTypeInfo<IDictionary<string, object?>> s_arguments =
        (JsonTypeInfo<IDictionary<string, object?>>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

    /// <summary>
    /// Calls a tool declaring the Tasks extension, so that the server may answer with a task handle instead of the result.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="toolName">The tool's name.</param>
    /// <param name="arguments">The tool's arguments, serialized with the SDK's default options.</param>
    /// <param name="cancellationToken">Cancels the <c>tools/call</c> request (not a task it created).</param>
    /// <returns>The tool's result, or the handle of the task that produces it.</returns>
    /// <exception cref="McpException">The server answered with an error or with a result the extension does not allow.</exception>
    /// <remarks>
    /// On a session older than 2026-07-28 the extension is not defined: the call is made without the declaration and
    /// always answers with the result.
    /// </remarks>
    public static ValueTask<ToolCallOrTask> CallToolAsTaskAsync(
        this McpClient client,
        string toolName,
        IReadOnlyDictionary<string, object?>? arguments = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        var requestParams = new CallToolRequestParams
        {
            Name = toolName,
            Arguments = arguments is null ? null : ToJsonArguments(arguments),
        };
        return client.CallToolAsTaskAsync(requestParams, cancellationToken);
    }

    /// <summary>
    /// Calls a tool declaring the Tasks extension, so that the server may answer with a task handle instead of the result.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="requestParams">The <c>tools/call</c> parameters; the declaration is added to a copy of their <c>_meta</c>.</param>
    /// <param name="cancellationToken">Cancels the <c>tools/call</c> request (not a task it created).</param>
    /// <returns>The tool's result, or the handle of the task that produces it.</returns>
    /// <exception cref="McpException">The server answered with an error or with a result the extension does not allow.</exception>
    public static async ValueTask<ToolCallOrTask> CallToolAsTaskAsync(
        this McpClient client,
        CallToolRequestParams requestParams,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(requestParams);
        if (!McpTasks.IsDefinedFor(client.NegotiatedProtocolVersion))
        {
            return ToolCallOrTask.Immediate(await client.CallToolAsync(requestParams, cancellationToken).ConfigureAwait(false));
        }

        var parameters = (JsonObject)JsonSerializer.SerializeToNode(requestParams, s_callToolParams)!;
        McpTasks.DeclareOn(parameters);
        var response = await client.SendRequestAsync(
            new JsonRpcRequest { Method = RequestMethods.ToolsCall, Params = parameters },
            cancellationToken).ConfigureAwait(false);
        return TaskResponseReader.ReadToolCall(requestParams.Name, response.Result);
    }

    /// <summary>Reads a task's current state with <c>tasks/get</c>.</summary>
    /// <param name="client">The client.</param>
    /// <param name="taskId">The task's id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The task with the members of its status: input requests, result or error.</returns>
    /// <exception cref="McpProtocolException">
    /// The server refused: <c>-32602</c> for an unknown, expired or foreign task id, <c>-32021</c>
    /// (<see cref="MissingRequiredClientCapabilityException"/>) when the extension is not available.
    /// </exception>
    /// <exception cref="McpException">The server's answer is not a task state the extension allows.</exception>
    public static async ValueTask<DetailedTask> GetTaskAsync(this McpClient client, string taskId, CancellationToken cancellationToken = default)
    {
        var response = await SendTaskRequestAsync(
            client,
            McpTasks.GetMethod,
            taskId,
            JsonSerializer.SerializeToNode(new GetTaskRequestParams { TaskId = taskId }, McpTasksJsonContext.Default.GetTaskRequestParams)!.AsObject(),
            cancellationToken).ConfigureAwait(false);
        return TaskResponseReader.ReadTask(taskId, response.Result);
    }

    /// <summary>Answers some or all of a task's outstanding input requests with <c>tasks/update</c>.</summary>
    /// <param name="client">The client.</param>
    /// <param name="taskId">The task's id.</param>
    /// <param name="inputResponses">The answers, keyed as the task's <see cref="DetailedTask.InputRequests"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server acknowledged; the task's state may change later.</returns>
    /// <exception cref="McpProtocolException">The server refused (see <see cref="GetTaskAsync"/>).</exception>
    public static async ValueTask UpdateTaskAsync(
        this McpClient client,
        string taskId,
        IDictionary<string, InputResponse> inputResponses,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputResponses);
        var parameters = new UpdateTaskRequestParams { TaskId = taskId, InputResponses = inputResponses };
        var response = await SendTaskRequestAsync(
            client,
            McpTasks.UpdateMethod,
            taskId,
            JsonSerializer.SerializeToNode(parameters, McpTasksJsonContext.Default.UpdateTaskRequestParams)!.AsObject(),
            cancellationToken).ConfigureAwait(false);
        TaskResponseReader.ReadAcknowledgement(McpTasks.UpdateMethod, taskId, response.Result);
    }

    /// <summary>Asks the server to cancel a task with <c>tasks/cancel</c>.</summary>
    /// <param name="client">The client.</param>
    /// <param name="taskId">The task's id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server acknowledged.</returns>
    /// <exception cref="McpProtocolException">The server refused (see <see cref="GetTaskAsync"/>).</exception>
    /// <remarks>
    /// Cancellation is cooperative: the acknowledgement does not mean the task stopped, and a task may still end in
    /// another terminal status. Cancelling a task that already ended is acknowledged and changes nothing.
    /// </remarks>
    public static async ValueTask CancelTaskAsync(this McpClient client, string taskId, CancellationToken cancellationToken = default)
    {
        var response = await SendTaskRequestAsync(
            client,
            McpTasks.CancelMethod,
            taskId,
            JsonSerializer.SerializeToNode(new CancelTaskRequestParams { TaskId = taskId }, McpTasksJsonContext.Default.CancelTaskRequestParams)!.AsObject(),
            cancellationToken).ConfigureAwait(false);
        TaskResponseReader.ReadAcknowledgement(McpTasks.CancelMethod, taskId, response.Result);
    }

    /// <summary>
    /// Polls a task with <c>tasks/get</c>, at the interval the server suggests, until it ends, and returns its result.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="taskId">The task's id.</param>
    /// <param name="progress">Receives each state read whose status, status message or update time changed.</param>
    /// <param name="options">How to poll; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Ends the wait (not the task) with an <see cref="OperationCanceledException"/>.</param>
    /// <returns>The tool's result of a <c>completed</c> task (which may have <c>isError</c> set).</returns>
    /// <exception cref="McpTaskFailedException">The task ended <c>failed</c>.</exception>
    /// <exception cref="McpTaskCancelledException">The task ended <c>cancelled</c>.</exception>
    /// <exception cref="TimeoutException"><see cref="McpTaskWaitOptions.Timeout"/> elapsed; the task keeps running.</exception>
    /// <exception cref="McpProtocolException">The server refused a request (an unknown task id: <c>-32602</c>).</exception>
    /// <exception cref="McpException">The server's answer is not a task state the extension allows.</exception>
    /// <remarks>
    /// The wait ends only when the task ends, the token is cancelled or the timeout elapses; each sleep between polls is
    /// bounded by <see cref="McpTaskWaitOptions.MaximumPollInterval"/>. Leaving the wait never cancels the task: call
    /// <see cref="CancelTaskAsync"/> for that.
    /// </remarks>
    public static async ValueTask<CallToolResult> WaitForTaskAsync(
        this McpClient client,
        string taskId,
        IProgress<DetailedTask>? progress = null,
        McpTaskWaitOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        options ??= new McpTaskWaitOptions();
        options.Validate();

        using var deadline = options.Timeout is { } timeout && timeout != Timeout.InfiniteTimeSpan
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : null;
        deadline?.CancelAfter(options.Timeout!.Value);
        var token = deadline?.Token ?? cancellationToken;

        var answered = new HashSet<string>(StringComparer.Ordinal);
        DetailedTask? previous = null;
        try
        {
            while (true)
            {
                var task = await client.GetTaskAsync(taskId, token).ConfigureAwait(false);
                if (previous is null || previous.Status != task.Status || previous.StatusMessage != task.StatusMessage || previous.LastUpdatedAt != task.LastUpdatedAt)
                {
                    progress?.Report(task);
                }

                previous = task;
                switch (task.Status)
                {
                    case McpTaskStatus.Completed:
                        return TaskResponseReader.ReadCompletedResult(task);
                    case McpTaskStatus.Failed:
                        throw new McpTaskFailedException(taskId, task.Error!, task.StatusMessage);
                    case McpTaskStatus.Cancelled:
                        throw new McpTaskCancelledException(taskId, task.StatusMessage);
                    case McpTaskStatus.InputRequired when options.ResolveInputRequests:
                        await AnswerNewInputRequestsAsync(client, task, answered, token).ConfigureAwait(false);
                        break;
                }

                await Task.Delay(PollInterval(task, options), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException exception) when (deadline is not null && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Task '{taskId}' did not end within {options.Timeout}; it was last seen {previous?.Status.ToString() ?? "nowhere"} and keeps running.", exception);
        }
    }

    private static async Task AnswerNewInputRequestsAsync(McpClient client, DetailedTask task, HashSet<string> answered, CancellationToken cancellationToken)
    {
        // A key stays in inputRequests until the server has processed its answer, so each key is answered once only.
        var fresh = task.InputRequests!.Where(pair => !answered.Contains(pair.Key)).ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        if (fresh.Count == 0)
        {
            return;
        }

        var responses = await client.ResolveInputRequestsAsync(fresh, cancellationToken).ConfigureAwait(false);
        await client.UpdateTaskAsync(task.TaskId, responses, cancellationToken).ConfigureAwait(false);
        answered.UnionWith(fresh.Keys);
    }

    private static TimeSpan PollInterval(DetailedTask task, McpTaskWaitOptions options)
    {
        var suggested = task.PollInterval is { } interval && interval > TimeSpan.Zero ? interval : options.DefaultPollInterval;
        return TimeSpan.FromTicks(Math.Clamp(suggested.Ticks, options.MinimumPollInterval.Ticks, options.MaximumPollInterval.Ticks));
    }

    private static Task<JsonRpcResponse> SendTaskRequestAsync(McpClient client, string method, string taskId, JsonObject parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        McpTasks.DeclareOn(parameters);
#pragma warning disable MCPEXP002 // The routing name becomes the Mcp-Name header over Streamable HTTP, which the extension requires on tasks/* requests.
        var context = new JsonRpcMessageContext { RoutingName = taskId };
#pragma warning restore MCPEXP002
        return client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters, Context = context }, cancellationToken);
    }

    private static Dictionary<string, JsonElement> ToJsonArguments(IReadOnlyDictionary<string, object?> arguments)
    {
        var copy = new Dictionary<string, object?>(arguments, StringComparer.Ordinal);
        var element = JsonSerializer.SerializeToElement(copy, s_arguments);
        return element.EnumerateObject().ToDictionary(property => property.Name, property => property.Value.Clone(), StringComparer.Ordinal);
    }
}
