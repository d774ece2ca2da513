using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Deriving from McpServer is experimental in the SDK; a task's view of its server needs it.
#pragma warning disable MCPEXP002

namespace AsyncMcp.Tasks;

/// <summary>
/// The server a task's tool sees while it runs in the background, after the <c>tools/call</c> that created it was
/// answered: the request's server for everything it knows, but progress for the task's own token goes to the task's
/// record, and nothing else reaches the client (its request is complete, and the extension does not carry
/// notifications or server requests of a task).
/// </summary>
internal sealed class TaskExecutionServer(McpServer inner, ProgressToken progressToken, TaskProgressWriter progress) : McpServer
{
    private static readonly JsonTypeInfo<ProgressNotificationParams> s_progressParams =
        (JsonTypeInfo<ProgressNotificationParams>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ProgressNotificationParams));

    public override string? SessionId => inner.SessionId;

    public override string? NegotiatedProtocolVersion => inner.NegotiatedProtocolVersion;

    public override ClientCapabilities? ClientCapabilities => inner.ClientCapabilities;

    public override Implementation? ClientInfo => inner.ClientInfo;

    public override McpServerOptions ServerOptions => inner.ServerOptions;

    public override IServiceProvider? Services => inner.Services;

    [Obsolete("Deprecated as of protocol revision 2026-07-28 (SEP-2577); passed through to the request's server.", DiagnosticId = "MCP9005")]
    public override LoggingLevel? LoggingLevel => inner.LoggingLevel;

    // Input requests of a task (input_required and tasks/update) are not implemented yet; a tool that asks fails here.
    public override Task<JsonRpcResponse> SendRequestAsync(JsonRpcRequest request, CancellationToken cancellationToken = default) =>
        throw new McpException($"'{request.Method}' from a task is not supported yet: this server cannot ask the client for input while a task runs.");

    public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification, Params: { } parameters }
            && parameters.Deserialize(s_progressParams) is { } notification
            && notification.ProgressToken.Equals(progressToken))
        {
            progress.Report(notification.Progress);
        }

        return Task.CompletedTask;
    }

    public override IAsyncDisposable RegisterNotificationHandler(string method, Func<JsonRpcNotification, CancellationToken, ValueTask> handler) =>
        inner.RegisterNotificationHandler(method, handler);

    public override Task RunAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("A task's server view does not run; the server it belongs to does.");

    // The request's server belongs to its session, which outlives the task's view of it.
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
