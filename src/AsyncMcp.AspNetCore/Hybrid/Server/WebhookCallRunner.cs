using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Runs webhook calls in the background once their POST has been answered: admits them within the configured limits,
/// delivers their result, and at shutdown cancels them and waits for them to end.
/// </summary>
internal sealed partial class WebhookCallRunner : IDisposable
{
    /// <summary>JSON-RPC's range for implementation-defined server errors: the server is busy, the request itself is fine.</summary>
    internal const McpErrorCode TooManyCallsCode = (McpErrorCode)(-32000);

    // As many rounds of questions as the SDK allows a tool on the stream.
    private const int MaxInputRounds = 10;

    private readonly HybridServerTransportOptions _options;
    private readonly HybridSessionRegistry _registry;
    private readonly HybridDelivery _delivery;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<WebhookCall, byte> _running = new();
    private int _count;

    public WebhookCallRunner(HybridServerTransportOptions options, HybridSessionRegistry registry, HybridDelivery delivery, IServiceScopeFactory scopes, ILogger<WebhookCallRunner> logger)
    {
        _options = options;
        _registry = registry;
        _delivery = delivery;
        _scopes = scopes;
        _logger = logger;
    }

    /// <summary>How many webhook calls run (or deliver their result) now, across all clients.</summary>
    public int Running => Volatile.Read(ref _count);

    /// <summary>
    /// Starts a webhook call in the background and returns its acknowledgement.
    /// <paramref name="session"/> is the client's stateful session, or <see langword="null"/> for a sessionless client,
    /// whose calls are kept under its webhook URL.
    /// </summary>
    /// <exception cref="McpProtocolException">The call is refused: a limit is reached, the id is taken, or the server is stopping.</exception>
    public async ValueTask<CallToolResult> StartAsync(
        McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        RequestContext<CallToolRequestParams> context,
        string tool,
        HybridSession? session,
        string webhookUrl,
        CancellationToken cancellationToken)
    {
        var requestId = context.JsonRpcRequest.Id;
        if (_stopping.IsCancellationRequested)
        {
            throw new McpProtocolException($"The server is stopping; '{tool}' was not started.", TooManyCallsCode);
        }

        if (Interlocked.Increment(ref _count) > _options.MaxConcurrentWebhookCalls)
        {
            Interlocked.Decrement(ref _count);
            LogRefused(tool, requestId, session?.Label ?? webhookUrl, $"{_options.MaxConcurrentWebhookCalls} webhook calls run on this server (MaxConcurrentWebhookCalls)");
            throw new McpProtocolException(
                $"Too many webhook calls: {_options.MaxConcurrentWebhookCalls} already run on this server (MaxConcurrentWebhookCalls). Try again when one has finished.",
                TooManyCallsCode);
        }

        WebhookCall? call = null;
        try
        {
            call = Admit(tool, requestId, session, webhookUrl);
        }
        catch
        {
            if (call is not null)
            {
                call.Session.RemoveCall(call);
                call.Dispose();
            }

            Interlocked.Decrement(ref _count);
            throw;
        }

        // The request's own scope and token end when the filter returns; the call gets its own.
        var scope = _scopes.CreateAsyncScope();
        var transport = new WebhookCallTransport(call.Session, webhookUrl, $"{call.Session.Key}|{call.Key}", _delivery);
        var background = new RequestContext<CallToolRequestParams>(new WebhookCallServer(context.Server, call.Session, transport), context.JsonRpcRequest, context.Params!)
        {
            MatchedPrimitive = context.MatchedPrimitive,
            Services = scope.ServiceProvider,
            User = context.User,
        };
        foreach (var item in context.Items)
        {
            background.Items[item.Key] = item.Value;
        }

        LogAccepted(tool, requestId, call.Session.Label);
        _running.TryAdd(call, 0);
        call.Completion = Task.Run(() => RunAsync(call, next, background, scope, transport), CancellationToken.None);
        return new CallToolResult
        {
            Content = [new TextContentBlock { Text = $"Accepted: the result of '{tool}' will be delivered to your webhook." }],
            Meta = new JsonObject
            {
                [HybridMeta.Delivery] = HybridMeta.Webhook,
                [HybridMeta.Accepted] = true,
            },
        };
    }

    /// <summary>Cancels every running call (the server is stopping) and waits for them to end, at most until <paramref name="cancellationToken"/>.</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var running = _running.Keys.Select(c => c.Completion).ToArray();
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private WebhookCall Admit(string tool, RequestId requestId, HybridSession? session, string webhookUrl)
    {
        while (true)
        {
            // A sessionless client's entry may be retired by the sweep at any moment; a retired one takes no calls, so try a fresh one.
            var target = session ?? _registry.GetOrAddSessionless(webhookUrl);
            var call = new WebhookCall(tool, requestId, target, webhookUrl, _stopping.Token);
            var admission = target.TryAddCall(call, _options.MaxConcurrentWebhookCallsPerSession);
            if (admission == CallAdmission.Added)
            {
                return call;
            }

            call.Dispose();
            switch (admission)
            {
                case CallAdmission.Closed when session is null:
                    _registry.Remove(target);
                    continue;
                case CallAdmission.Closed:
                    throw new McpProtocolException("The session has ended.", McpErrorCode.InvalidRequest);
                case CallAdmission.DuplicateId:
                    throw new McpProtocolException($"Request id {requestId} is already running on this session.", McpErrorCode.InvalidRequest);
                default:
                    LogRefused(tool, requestId, target.Label, $"{_options.MaxConcurrentWebhookCallsPerSession} webhook calls run for this client (MaxConcurrentWebhookCallsPerSession)");
                    throw new McpProtocolException(
                        $"Too many webhook calls: {_options.MaxConcurrentWebhookCallsPerSession} already run for this client (MaxConcurrentWebhookCallsPerSession). Try again when one has finished.",
                        TooManyCallsCode);
            }
        }
    }

    private async Task RunAsync(WebhookCall call, McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, AsyncServiceScope scope, WebhookCallTransport transport)
    {
        try
        {
            JsonRpcMessageWithId? final = null;
            try
            {
                final = await InvokeAsync(next, context, call).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (call.Token.IsCancellationRequested)
            {
                // A cancelled request gets no response (MCP's cancellation rule).
                var why = Describe(call.StopReason);
                LogCallStopped(call.Tool, call.RequestId, call.Session.Label, why);
            }
            catch (McpProtocolException ex)
            {
                final = new JsonRpcError { Id = call.RequestId, Error = new JsonRpcErrorDetail { Code = (int)ex.ErrorCode, Message = ex.Message } };
            }
            catch (Exception ex)
            {
                // As the SDK answers a tool that throws on the stream: an error result, with the message only of an McpException.
                LogCallFailed(ex, call.Tool, call.RequestId, call.Session.Label);
                final = Response(call.RequestId, new CallToolResult
                {
                    IsError = true,
                    Content = [new TextContentBlock { Text = ex is McpException ? $"An error occurred invoking '{call.Tool}': {ex.Message}" : $"An error occurred invoking '{call.Tool}'." }],
                });
            }
            finally
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }

            if (final is not null && call.StopReason != CallStopReason.ClientCancelled)
            {
                // After the call's progress and log messages, so the client sees them before the result.
                await transport.Sent.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await _delivery.DeliverResultAsync(call.Session, call.WebhookUrl, final, _delivery.Stopping).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Nothing may escape a background call unlogged.
            LogCallFailed(ex, call.Tool, call.RequestId, call.Session.Label);
        }
        finally
        {
            call.Session.RemoveCall(call);

            _running.TryRemove(call, out _);
            call.Dispose();
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>
    /// Runs the tool as the SDK runs one on the stream, including the explicit input-required form: a tool that throws
    /// <see cref="InputRequiredException"/> gets its <c>input_required</c> result to a client of revision 2026-07-28
    /// (which answers with a new call), and for an older client the server asks it each question (sampling,
    /// elicitation, roots) on the session and runs the tool again with the answers, as the SDK does on the stream.
    /// </summary>
    private static async Task<JsonRpcResponse> InvokeAsync(McpRequestHandler<CallToolRequestParams, CallToolResult> next, RequestContext<CallToolRequestParams> context, WebhookCall call)
    {
        for (var round = 0; ; round++)
        {
            InputRequiredResult asked;
            try
            {
                return Response(call.RequestId, await next(context, call.Token).ConfigureAwait(false));
            }
            catch (InputRequiredException ex)
            {
                asked = ex.Result;
            }

            if (TakesInputRequiredResults(context.Server.NegotiatedProtocolVersion))
            {
                return new JsonRpcResponse { Id = call.RequestId, Result = JsonSerializer.SerializeToNode(asked, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InputRequiredResult))) };
            }

            if (asked.InputRequests is not { Count: > 0 } questions)
            {
                throw new McpException($"'{call.Tool}' asked for input without saying what, and the client (protocol revision {context.Server.NegotiatedProtocolVersion}) takes no input_required results.");
            }

            if (round >= MaxInputRounds)
            {
                throw new McpException($"'{call.Tool}' asked for input more than {MaxInputRounds} times.");
            }

            context.Params!.InputResponses = await AskAsync(context.Server, questions, call.Token).ConfigureAwait(false);
            context.Params.RequestState = asked.RequestState;
        }
    }

    /// <summary>Input-required results are part of revision 2026-07-28 and later (MRTR); older clients are asked directly.</summary>
    private static bool TakesInputRequiredResults(string? protocolVersion) =>
        protocolVersion is not null && string.CompareOrdinal(protocolVersion, "2026-07-28") >= 0;

    /// <summary>Asks the client every question at once, through the call's server (its requests travel on the session).</summary>
    private static async Task<IDictionary<string, InputResponse>> AskAsync(McpServer server, IDictionary<string, InputRequest> questions, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var asks = questions.Select(q => (q.Key, Answer: AskOneAsync(server, q.Value, failed.Token))).ToArray();
        try
        {
            await Task.WhenAll(asks.Select(a => a.Answer)).ConfigureAwait(false);
        }
        catch
        {
            // The first failure ends the other questions: the user should not be left answering for a call that failed.
            await failed.CancelAsync().ConfigureAwait(false);
            await ((Task)Task.WhenAll(asks.Select(a => a.Answer))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        return asks.ToDictionary(a => a.Key, a => a.Answer.Result, StringComparer.Ordinal);
    }

#pragma warning disable MCP9005 // Sampling and roots are deprecated by revision 2026-07-28, which asks for them with input_required results; clients of older revisions are asked directly.
    private static async Task<InputResponse> AskOneAsync(McpServer server, InputRequest question, CancellationToken cancellationToken) => question.Method switch
    {
        RequestMethods.ElicitationCreate => InputResponse.FromElicitResult(await server.ElicitAsync(question.ElicitationParams ?? throw Unreadable(question), cancellationToken).ConfigureAwait(false)),
        RequestMethods.SamplingCreateMessage => InputResponse.FromSamplingResult(await server.SampleAsync(question.SamplingParams ?? throw Unreadable(question), cancellationToken).ConfigureAwait(false)),
        RequestMethods.RootsList => InputResponse.FromRootsResult(await server.RequestRootsAsync(question.RootsParams ?? new ListRootsRequestParams(), cancellationToken).ConfigureAwait(false)),
        _ => throw new McpException($"The tool asked for input with '{question.Method}', which no client answers."),
    };
#pragma warning restore MCP9005

    private static McpException Unreadable(InputRequest question) => new($"The tool's '{question.Method}' input request has params that cannot be read.");

    private static JsonRpcResponse Response(RequestId id, CallToolResult result) => new()
    {
        Id = id,
        Result = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult))),
    };

    private static string Describe(CallStopReason reason) => reason switch
    {
        CallStopReason.ClientCancelled => "the client cancelled it",
        CallStopReason.SessionEnded => "its session ended",
        CallStopReason.ServerStopping => "the server is stopping",
        _ => "it was cancelled",
    };

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) was accepted; its result will be delivered by webhook.")]
    private partial void LogAccepted(string tool, RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) was stopped because {Why}; no result is sent.")]
    private partial void LogCallStopped(string tool, RequestId requestId, string sessionId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) failed; the client gets an error result.")]
    private partial void LogCallFailed(Exception exception, string tool, RequestId requestId, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool '{Tool}' (request {RequestId}, session {SessionId}) was refused: {Why}.")]
    private partial void LogRefused(string tool, RequestId requestId, string sessionId, string why);
}
