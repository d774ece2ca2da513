using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Sampling and roots are deprecated from 2026-07-28 on, but a task's tool may still ask for them when its client declared them.
#pragma warning disable MCP9005

namespace AsyncMcp.Tasks;

/// <summary>
/// Runs one task's tool call, from its record alone, on a private <see cref="McpServer"/> created from the server's own
/// options and driven by an in-process client: the tool runs through the server's whole pipeline (filters, DI scope,
/// the bridge's forwarding handler alike) without the session that created the task, so any worker can run it.
/// </summary>
/// <remarks>
/// The private session speaks 2025-11-25, where the server asks the client for input with requests of its own; the
/// client side turns them into the task's input requests. It declares exactly the input kinds (elicitation, sampling,
/// roots) that the creating request declared, so the tool is never allowed to ask what the real client cannot answer.
/// </remarks>
internal static class TaskExecution
{
    private const string SessionProtocolVersion = "2025-11-25";

    private static readonly JsonTypeInfo<ClientCapabilities> s_capabilities = TypeInfo<ClientCapabilities>();
    private static readonly JsonTypeInfo<CallToolRequestParams> s_callToolParams = TypeInfo<CallToolRequestParams>();
    private static readonly JsonTypeInfo<ProgressNotificationParams> s_progressParams = TypeInfo<ProgressNotificationParams>();
    private static readonly JsonTypeInfo<ElicitRequestParams> s_elicitParams = TypeInfo<ElicitRequestParams>();
    private static readonly JsonTypeInfo<ElicitResult> s_elicitResult = TypeInfo<ElicitResult>();
    private static readonly JsonTypeInfo<CreateMessageRequestParams> s_samplingParams = TypeInfo<CreateMessageRequestParams>();
    private static readonly JsonTypeInfo<CreateMessageResult> s_samplingResult = TypeInfo<CreateMessageResult>();
    private static readonly JsonTypeInfo<ListRootsRequestParams> s_rootsParams = TypeInfo<ListRootsRequestParams>();
    private static readonly JsonTypeInfo<ListRootsResult> s_rootsResult = TypeInfo<ListRootsResult>();

    /// <summary>Runs the call; returns its result, or throws <see cref="TaskToolCallFailedException"/> with the server's JSON-RPC error, or the cancellation.</summary>
    public static async Task<CallToolResult> RunAsync(
        TaskRecord record,
        McpServerOptions serverOptions,
        IServiceProvider? services,
        ILoggerFactory? loggerFactory,
        TaskProgressWriter progress,
        TaskInputs inputs,
        CancellationToken cancellationToken)
    {
        var (serverEnd, clientEnd) = LoopbackTransport.CreatePair();
        using var serverStop = new CancellationTokenSource();
        Task serving = Task.CompletedTask;
        var server = McpServer.Create(serverEnd, serverOptions, loggerFactory, services);
        try
        {
            serving = server.RunAsync(serverStop.Token);
            var declared = DeclaredCapabilities(record.ToolCall.Meta);
            var progressToken = new ProgressToken("task-" + record.TaskId);
            var client = await McpClient.CreateAsync(
                clientEnd,
                new McpClientOptions
                {
                    ProtocolVersion = SessionProtocolVersion,
                    ClientInfo = new Implementation { Name = "asyncmcp-task-runner", Version = "1.0.0" },
                    Capabilities = new ClientCapabilities { Elicitation = declared?.Elicitation, Sampling = declared?.Sampling, Roots = declared?.Roots },
                    Handlers = Handlers(declared, inputs, progressToken, progress),
                },
                loggerFactory,
                cancellationToken).ConfigureAwait(false);
            await using (client.ConfigureAwait(false))
            {
                try
                {
                    return await client.CallToolAsync(CallParameters(record.ToolCall, progressToken), cancellationToken).ConfigureAwait(false);
                }
                catch (McpProtocolException exception) when (serverEnd.LastError is { } error)
                {
                    // The error exactly as the server sent it (code, message, data), not as the client rephrased it.
                    throw new TaskToolCallFailedException(error.Error, exception);
                }
            }
        }
        finally
        {
            await serverStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await serving.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await server.DisposeAsync().ConfigureAwait(false);
            await serverEnd.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static McpClientHandlers Handlers(ClientCapabilities? declared, TaskInputs inputs, ProgressToken progressToken, TaskProgressWriter progress) => new()
    {
        ElicitationHandler = declared?.Elicitation is null ? null : async (parameters, cancellationToken) =>
            (await inputs.AskAsync(RequestMethods.ElicitationCreate, Serialize(parameters, s_elicitParams), cancellationToken).ConfigureAwait(false)).Deserialize(s_elicitResult)
                ?? throw new McpException("The client answered an elicitation of the task with null."),
        SamplingHandler = declared?.Sampling is null ? null : async (parameters, _, cancellationToken) =>
            (await inputs.AskAsync(RequestMethods.SamplingCreateMessage, Serialize(parameters, s_samplingParams), cancellationToken).ConfigureAwait(false)).Deserialize(s_samplingResult)
                ?? throw new McpException("The client answered a sampling request of the task with null."),
        RootsHandler = declared?.Roots is null ? null : async (parameters, cancellationToken) =>
            (await inputs.AskAsync(RequestMethods.RootsList, Serialize(parameters, s_rootsParams), cancellationToken).ConfigureAwait(false)).Deserialize(s_rootsResult)
                ?? throw new McpException("The client answered a roots request of the task with null."),
        NotificationHandlers =
        [
            new(NotificationMethods.ProgressNotification, (notification, _) =>
            {
                if (notification.Params?.Deserialize(s_progressParams) is { } reported && reported.ProgressToken.Equals(progressToken))
                {
                    progress.Report(reported.Progress);
                }

                return ValueTask.CompletedTask;
            }),
        ],
    };

    private static CallToolRequestParams CallParameters(TaskToolCall call, ProgressToken progressToken)
    {
        // The creating request's own _meta, less what belonged to its revision and connection: protocol keys would make
        // the private 2025-11-25 session read the call as a 2026-07-28 request, and its progress token is not ours.
        var meta = call.Meta is { } recorded && JsonSerializer.SerializeToNode(recorded, McpTasksJsonContext.Default.JsonElement) is JsonObject original
            ? original
            : new JsonObject();
        foreach (var key in meta.Select(pair => pair.Key).Where(key => key == "progressToken" || key.StartsWith("io.modelcontextprotocol/", StringComparison.Ordinal)).ToList())
        {
            meta.Remove(key);
        }

        meta["progressToken"] = progressToken.ToString();
        var parameters = new JsonObject { ["name"] = call.Name, ["_meta"] = meta };
        if (call.Arguments is { ValueKind: JsonValueKind.Object } arguments)
        {
            parameters["arguments"] = JsonSerializer.SerializeToNode(arguments, McpTasksJsonContext.Default.JsonElement);
        }

        return parameters.Deserialize(s_callToolParams)!;
    }

    private static ClientCapabilities? DeclaredCapabilities(JsonElement? meta) =>
        meta is { ValueKind: JsonValueKind.Object } recorded
        && recorded.TryGetProperty(MetaKeys.ClientCapabilities, out var capabilities)
        && capabilities.ValueKind == JsonValueKind.Object
            ? capabilities.Deserialize(s_capabilities)
            : null;

    private static JsonElement Serialize<T>(T? value, JsonTypeInfo<T> typeInfo) =>
        value is null ? JsonSerializer.SerializeToElement(new JsonObject(), McpTasksJsonContext.Default.JsonObject) : JsonSerializer.SerializeToElement(value, typeInfo);

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));
}

/// <summary>The task's tool call ended in a JSON-RPC error; <see cref="Error"/> is that error as the server sent it.</summary>
internal sealed class TaskToolCallFailedException(JsonRpcErrorDetail error, Exception innerException)
    : Exception(error.Message, innerException)
{
    public JsonRpcErrorDetail Error { get; } = error;
}
