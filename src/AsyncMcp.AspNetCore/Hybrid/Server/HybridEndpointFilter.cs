using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Webhooks;
using AsyncMcp.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Headers;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Wraps the SDK's Streamable HTTP endpoint: notes when a session's GET stream is open (so results that missed the
/// webhook can go there, and kept ones are sent as soon as it opens), and in JSON response mode turns the SDK's SSE
/// answer to a POST into one JSON body.
/// </summary>
internal sealed partial class HybridEndpointFilter
{
    /// <summary>The path the endpoint is mounted at, once <c>MapMcpHybrid</c> has mounted it.</summary>
    internal string? MappedPattern { get; set; }

    private const string SessionHeader = "Mcp-Session-Id";
    private const string ProtocolVersionHeader = "MCP-Protocol-Version";

    /// <summary>The first protocol revision without sessions (revisions are dates, so they compare as strings).</summary>
    private const string FirstSessionlessRevision = "2026-07-28";

    /// <summary>The code the SDK (and the TypeScript SDK) uses for an unknown session.</summary>
    private const McpErrorCode SessionNotFoundCode = (McpErrorCode)(-32001);
    private readonly HybridServerTransportOptions _options;
    private readonly HybridSessionRegistry _registry;
    private readonly HybridDelivery _delivery;
    private readonly ILogger _logger;

    public HybridEndpointFilter(HybridServerTransportOptions options, HybridSessionRegistry registry, HybridDelivery delivery, ILogger<HybridEndpointFilter> logger)
    {
        _options = options;
        _registry = registry;
        _delivery = delivery;
        _logger = logger;
    }

    /// <summary>Wraps one of the SDK's request delegates.</summary>
    public RequestDelegate Wrap(RequestDelegate inner) => context => HandleAsync(context, inner);

    private Task HandleAsync(HttpContext context, RequestDelegate inner)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) && _registry.FindSession(context.Request.Headers[SessionHeader].ToString()) is { } session)
        {
            return HandleGetAsync(context, inner, session);
        }

        if (HttpMethods.IsPost(method))
        {
            return HandlePostAsync(context, inner);
        }

        if (HttpMethods.IsDelete(method))
        {
            if (IsUnknownSession(context))
            {
                // The SDK answers a DELETE of a session it does not have with an empty 200; Streamable HTTP says 404, as
                // the SDK itself answers a POST or GET for it.
                return WebhookStatus.WriteErrorAsync(context, StatusCodes.Status404NotFound, JsonRpcErrors.Create(default, SessionNotFoundCode, "Session not found", ErrorReasons.SessionNotFound));
            }

            // Told before the SDK ends the session: the client wants no more results, so its webhook calls stop.
            _registry.FindSession(context.Request.Headers[SessionHeader].ToString())?.MarkClosedByClient();
        }

        return inner(context);
    }

    /// <summary>A request that names a session (on a revision that has sessions) which this server does not have.</summary>
    private bool IsUnknownSession(HttpContext context)
    {
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        var version = context.Request.Headers[ProtocolVersionHeader].ToString();
        var sessionsExist = version.Length == 0 || string.CompareOrdinal(version, FirstSessionlessRevision) < 0;
        return sessionId.Length > 0 && sessionsExist && _registry.FindSession(sessionId) is null;
    }

    private async Task HandlePostAsync(HttpContext context, RequestDelegate inner)
    {
        // Bodies are read here only when the SDK would read them too (JSON, acceptable Accept), so its 415 and 406 stand.
        var body = WebhookStatus.IsJson(context.Request) && AcceptsJsonAndEventStream(context.Request) ? await ReadBodyAsync(context.Request).ConfigureAwait(false) : null;
        JsonRpcMessage? message = null;
        if (body is not null)
        {
            var decoded = JsonRpcCodec.Decode(body);
            if (decoded.Message is null)
            {
                // The SDK answers both with -32600 and id null; JSON-RPC wants -32700 for a body that is not JSON, and
                // the request's id whenever it can be read (an object with an id but no method, a wrong "jsonrpc").
                var parseError = decoded.ErrorCode == McpErrorCode.ParseError;
                LogBadMessage(context.Connection.RemoteIpAddress, decoded.Error ?? "not a JSON-RPC message");
                await WebhookStatus.WriteErrorAsync(
                    context,
                    StatusCodes.Status400BadRequest,
                    JsonRpcErrors.Create(
                        decoded.Id,
                        decoded.ErrorCode,
                        parseError ? "Parse error: the body is not valid JSON." : $"Invalid request: {decoded.Error}",
                        parseError ? ErrorReasons.ParseError : ErrorReasons.InvalidMessage)).ConfigureAwait(false);
                return;
            }

            message = decoded.Message;
        }

        var withhold = WithholdsAcknowledgement(context, message);
        if (_options.ResponseMode == HybridResponseMode.Json)
        {
            await JsonResponseMode.HandlePostAsync(context, inner, () => _registry.FindSession(ResponseSessionId(context)), withhold, _logger).ConfigureAwait(false);
            return;
        }

        if (withhold is not { } requestId)
        {
            await inner(context).ConfigureAwait(false);
            return;
        }

        var original = context.Response.Body;
        var filter = new AcknowledgementFilter(original, context.Response, requestId);
        context.Response.Body = filter;
        try
        {
            await inner(context).ConfigureAwait(false);
            await filter.CompleteAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = original;
        }

        if (filter.Dropped)
        {
            LogAcknowledgementWithheld(requestId);
        }
    }

    /// <summary>
    /// The id of a <c>tools/call</c> whose acknowledgement must not be sent: the client names a webhook (in the
    /// request, or in <c>initialize</c> for its session) but has not opted in to acknowledgements, so it would take
    /// one as the tool's result (asyncmcp's Python hybrid client does).
    /// </summary>
    private RequestId? WithholdsAcknowledgement(HttpContext context, JsonRpcMessage? message)
    {
        if (message is not JsonRpcRequest { Method: RequestMethods.ToolsCall } call)
        {
            return null;
        }

        var meta = call.Params is JsonObject parameters ? parameters["_meta"] as JsonObject : null;
        if (meta?[HybridMeta.Acknowledge] is JsonValue optIn && optIn.GetValueKind() == JsonValueKind.True)
        {
            return null;
        }

        var namesWebhook = meta?[HybridMeta.WebhookUrl] is JsonValue url && url.GetValueKind() == JsonValueKind.String;
        return namesWebhook || _registry.FindSession(context.Request.Headers[SessionHeader].ToString())?.WebhookUrl is not null ? call.Id : null;
    }

    private static bool AcceptsJsonAndEventStream(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Any(a => a.MatchesMediaType("application/json")) && accept.Any(a => a.MatchesMediaType("text/event-stream"));
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        request.EnableBuffering();
        try
        {
            // Bytes, not text: a body that is not UTF-8 must be refused here, not read with replacement characters.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return buffer.ToArray();
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private async Task HandleGetAsync(HttpContext context, RequestDelegate inner, HybridSession session)
    {
        var body = context.Response.Body;
        var opened = 0;

        // The SDK writes (or flushes) the stream's first bytes only once it is ready to send on it. Only a 200 event
        // stream counts: its refusals (406, 400 for a second GET, 404) are writes too, of a JSON error body.
        var observing = new FirstWriteObservingStream(body, () =>
        {
            var response = context.Response;
            if (response.StatusCode == StatusCodes.Status200OK &&
                (response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ?? false) &&
                Interlocked.Exchange(ref opened, 1) == 0)
            {
                session.StreamOpened();
                LogStreamOpened(session.SessionId!);
                _delivery.OnStreamOpened(session);
            }
        });
        context.Response.Body = observing;
        try
        {
            await inner(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = body;
            if (Volatile.Read(ref opened) != 0)
            {
                session.StreamClosed();
                LogStreamClosed(session.SessionId!);
            }
        }
    }

    private static string? ResponseSessionId(HttpContext context) =>
        context.Request.Headers[SessionHeader].ToString() is { Length: > 0 } fromRequest ? fromRequest : context.Response.Headers[SessionHeader].ToString();

    [LoggerMessage(Level = LogLevel.Information, Message = "A POST from {RemoteAddress} was not a valid JSON-RPC message; answered 400: {Error}")]
    private partial void LogBadMessage(System.Net.IPAddress? remoteAddress, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The acknowledgement of request {RequestId} was withheld: the client names a webhook but did not opt in to acknowledgements, so its POST ends with no response and the result follows by webhook.")]
    private partial void LogAcknowledgementWithheld(RequestId requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GET stream of session {SessionId} opened.")]
    private partial void LogStreamOpened(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GET stream of session {SessionId} closed.")]
    private partial void LogStreamClosed(string sessionId);

    /// <summary>Passes everything through, calling back once on the first write or flush.</summary>
    private sealed class FirstWriteObservingStream(Stream inner, Action onFirst) : Stream
    {
        private int _seen;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            inner.Flush();
            Seen();
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            Seen();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Seen();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Seen();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Seen()
        {
            if (Interlocked.Exchange(ref _seen, 1) == 0)
            {
                onFirst();
            }
        }
    }
}
