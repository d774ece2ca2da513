using System.Text;
using AsyncMcp.AspNetCore.Webhooks.Delivery;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.AspNetCore.Webhooks.Server;

/// <summary>
/// An MCP server that takes client messages as HTTP POSTs and delivers everything it says (responses,
/// notifications, requests to the client) as signed POSTs to each client's webhook URL. One <see cref="McpServer"/>
/// runs per session; sessions end by <c>DELETE</c>, by idle expiry, or when their webhook can no longer be reached.
/// </summary>
/// <remarks>
/// Mount it with <c>app.MapMcpWebhook("/mcp/request")</c>. The HTTP answer to a POST is a small status body
/// (asyncmcp's wire format): <c>{"status":"session_created","session_id":"…"}</c> for <c>initialize</c>,
/// <c>{"status":"initialized"}</c> and <c>{"status":"received"}</c> otherwise. Bad input is answered at once with
/// the matching status code and a JSON-RPC error carrying the request's id.
/// </remarks>
public sealed partial class WebhookServerTransport : IAsyncDisposable
{
    private readonly WebhookServerTransportOptions _options;
    private readonly WebhookVerifier _verifier;
    private readonly WebhookAddressGuard _guard;
    private readonly HttpClient _http;
    private readonly WebhookDelivery _delivery;
    private readonly ILogger _logger;
    private readonly bool _unsigned;
    private int _started;
    private int _disposed;
    private int _admitting;

    /// <summary>Creates the server; call <see cref="Start"/> before serving requests.</summary>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources).</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider for tool dependencies.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public WebhookServerTransport(WebhookServerTransportOptions options, McpServerOptions serverOptions, ILoggerFactory? loggerFactory = null, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();
        _options = options;
        _logger = loggerFactory?.CreateLogger<WebhookServerTransport>() ?? NullLogger<WebhookServerTransport>.Instance;
        var signer = options.Security.Validate(nameof(WebhookServerTransportOptions));
        _unsigned = signer is null || options.Security.AllowUnsigned;
        _verifier = new WebhookVerifier(signer, options.Security.AllowUnsigned, options.Security.TimestampTolerance);
        _guard = new WebhookAddressGuard(options.AddressPolicy, $"{nameof(WebhookServerTransportOptions)}.{nameof(WebhookServerTransportOptions.AddressPolicy)}");

        _http = _guard.CreateHttpClient();
        // Each client's webhook has its own bounded queue, retries happen inside it, and a send returns once queued:
        // a request's in-flight slot and a client's POST never wait on a webhook.
        var retrying = new RetryingMessageSink(new WebhookHttpSink(_http, signer, options.DeliveryTimeout) { SessionCloseAsDelete = false }, options.SendRetry, loggerFactory?.CreateLogger<RetryingMessageSink>())
        {
            MessagingSystem = MessagingSystem,
        };
        Batching = options.BatchDeliveries ? new BatchingWebhookSink(retrying) : null;
        _delivery = new WebhookDelivery((IMessageSink?)Batching ?? retrying, options.MaxQueuedDeliveriesPerClient, loggerFactory?.CreateLogger<WebhookDelivery>())
        {
            OnFailed = OnDeliveryFailedAsync,
        };
        var endpoint = new InboundEndpoint
        {
            MessagingSystem = MessagingSystem,
            Description = "webhook",
            Redelivers = false,
            SessionRequestsNameReplyAddress = false,
        };
        Dispatcher = new MessageDispatcher(_delivery, ReplyAddressConvention.Webhook, options, serverOptions, endpoint, loggerFactory, services);
    }

    /// <summary>The <c>messaging.system</c> on this transport's spans.</summary>
    public const string MessagingSystem = Client.WebhookMcpMessaging.System;

    /// <summary>The dispatcher: its counters, for tests.</summary>
    internal MessageDispatcher Dispatcher { get; }

    /// <summary>What gathers answers into batched deliveries, when <see cref="WebhookServerTransportOptions.BatchDeliveries"/> is on; for tests.</summary>
    internal BatchingWebhookSink? Batching { get; }

    /// <summary>The path the endpoint is mounted at, once <c>MapMcpWebhook</c> has mounted it.</summary>
    internal string? MappedPattern { get; set; }

    /// <summary>What the AsyncMcp health check asks about this server.</summary>
    internal AsyncMcp.Diagnostics.IServerHealthProbe HealthProbe => field ??= new EndpointServerHealthProbe(
        $"{MessagingSystem} endpoint",
        () => Volatile.Read(ref _started) != 0 && Volatile.Read(ref _disposed) == 0,
        () => MappedPattern,
        "app.MapMcpWebhook(...)",
        Dispatcher);

    /// <summary>Checks every webhook URL and outgoing connection against the reply-address policy.</summary>
    internal WebhookAddressGuard AddressGuard => _guard;


    /// <summary>Starts idle-session expiry. Logs a warning if unsigned requests are accepted.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        if (_unsigned)
        {
            LogUnsigned();
        }

        Dispatcher.Start();
    }

    /// <summary>Handles one HTTP request to the endpoint: POST carries a message, DELETE closes a session.</summary>
    /// <param name="context">The HTTP context.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Volatile.Read(ref _started) == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return Refuse(context, StatusCodes.Status503ServiceUnavailable, default, McpErrorCode.InternalError, "The webhook server is not running.", ErrorReasons.ServerBusy);
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            return HandlePostAsync(context);
        }

        if (HttpMethods.IsDelete(context.Request.Method))
        {
            return HandleDeleteAsync(context);
        }

        context.Response.Headers.Allow = "POST, DELETE";
        return Refuse(context, StatusCodes.Status405MethodNotAllowed, default, McpErrorCode.InvalidRequest, $"{context.Request.Method} is not supported here: POST a JSON-RPC message, or DELETE a session.", ErrorReasons.InvalidMessage);
    }

    private async Task HandlePostAsync(HttpContext context)
    {
        var request = context.Request;
        if (!WebhookStatus.IsJson(request))
        {
            await Refuse(context, StatusCodes.Status415UnsupportedMediaType, WebhookHeaders.ReadRequestId(request.Headers), McpErrorCode.InvalidRequest, $"Content-Type must be application/json (was '{request.ContentType ?? "none"}').", ErrorReasons.UnsupportedContentType).ConfigureAwait(false);
            return;
        }

        var bytes = await WebhookStatus.ReadBodyAsync(request, _options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (bytes is null)
        {
            await Refuse(context, StatusCodes.Status413PayloadTooLarge, WebhookHeaders.ReadRequestId(request.Headers), McpErrorCode.InvalidRequest, $"The body is larger than the {_options.MaxRequestBodyBytes} bytes this server accepts.", ErrorReasons.PayloadTooLarge).ConfigureAwait(false);
            return;
        }

        // Decoded from the bytes, so that a body that is not UTF-8 is refused rather than read with replacement characters.
        var decoded = JsonRpcCodec.Decode(bytes);
        var body = decoded.IsSuccess ? Encoding.UTF8.GetString(bytes) : string.Empty;

        // The id of the request, from its body or, when the body cannot tell, from its X-Request-ID header.
        var errorId = decoded.Message is JsonRpcMessageWithId withId ? withId.Id : decoded.Id;
        if (errorId.Id is null)
        {
            errorId = WebhookHeaders.ReadRequestId(request.Headers);
        }

        var verified = _verifier.Verify(request.Headers, bytes);
        if (verified.Outcome == VerificationOutcome.Refused)
        {
            LogBadSignature(context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)", verified.Reason!);
            await Refuse(context, StatusCodes.Status401Unauthorized, errorId, McpErrorCode.InvalidRequest, verified.Reason!, ErrorReasons.BadSignature).ConfigureAwait(false);
            return;
        }

        if (verified.Outcome == VerificationOutcome.Replayed)
        {
            // A retry of a POST that already got through (its answer was lost), or a replay: not processed again.
            LogReplayed(verified.MessageId!);
            await WebhookStatus.WriteAsync(context, WebhookStatus.Duplicate).ConfigureAwait(false);
            return;
        }

        var accepted = false;
        try
        {
            accepted = await HandleVerifiedPostAsync(context, body, decoded, errorId, verified.MessageId).ConfigureAwait(false);
        }
        finally
        {
            if (!accepted)
            {
                _verifier.Forget(verified.MessageId);
            }
        }
    }

    /// <summary>Checks and routes a message whose signature checked out; <see langword="false"/> if it was refused.</summary>
    private async Task<bool> HandleVerifiedPostAsync(HttpContext context, string body, DecodeResult decoded, RequestId errorId, string? webhookId)
    {
        var request = context.Request;
        if (!decoded.IsSuccess)
        {
            await Refuse(context, StatusCodes.Status400BadRequest, errorId, decoded.ErrorCode, decoded.Error!, decoded.ErrorCode == McpErrorCode.ParseError ? ErrorReasons.ParseError : ErrorReasons.InvalidMessage).ConfigureAwait(false);
            return false;
        }

        var rpc = decoded.Message!;
        var id = rpc is JsonRpcMessageWithId withId ? withId.Id : default;
        var attributes = WebhookHeaders.Read(request.Headers);
        if (!attributes.TryGetValue(WireAttributes.ClientId, out var clientId))
        {
            await Refuse(context, StatusCodes.Status400BadRequest, id, McpErrorCode.InvalidRequest, $"The {WebhookHeaders.ClientId} header is required.", ErrorReasons.MissingHeader).ConfigureAwait(false);
            return false;
        }

        // The method and id come from the body, whatever the headers said.
        attributes.Remove(WireAttributes.Method);
        attributes.Remove(WireAttributes.RequestId);
        if (rpc is JsonRpcRequest r)
        {
            attributes[WireAttributes.Method] = r.Method;
            attributes[WireAttributes.RequestId] = r.Id.ToString();
        }
        else if (rpc is JsonRpcNotification n)
        {
            attributes[WireAttributes.Method] = n.Method;
        }

        var isInitialize = rpc is JsonRpcRequest { Method: RequestMethods.Initialize };
        if (isInitialize)
        {
            attributes.Remove(WireAttributes.SessionId);
        }

        attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        string? replyAddress;
        if (!string.IsNullOrEmpty(sessionId))
        {
            replyAddress = Dispatcher.GetReplyAddress(sessionId);
            if (replyAddress is null)
            {
                await Refuse(context, StatusCodes.Status404NotFound, id, McpErrorCode.InvalidRequest, $"Session '{sessionId}' is unknown or has expired; start a new session with initialize.", ErrorReasons.SessionNotFound).ConfigureAwait(false);
                return false;
            }
        }
        else if (rpc is JsonRpcRequest named)
        {
            // initialize, or a session-less request (2026-07-28): it names its own webhook, which must pass the policy.
            replyAddress = ReplyAddressConvention.Webhook.Read(named);
            if (replyAddress is null || !ReplyAddressConvention.Webhook.IsWellFormed(replyAddress))
            {
                var problem = replyAddress is null ? "names no webhook" : $"names a malformed webhook URL ('{replyAddress}')";
                await Refuse(context, StatusCodes.Status400BadRequest, id, McpErrorCode.InvalidParams, $"The request {problem}: put your webhook URL in params._meta.webhookUrl{(isInitialize ? string.Empty : $", or send the {WebhookHeaders.SessionId} header of an open session")}.", ErrorReasons.MissingReplyAddress).ConfigureAwait(false);
                return false;
            }

            if (await _guard.CheckNamedAsync(replyAddress, context.RequestAborted).ConfigureAwait(false) is { } refusal)
            {
                LogAddressRefused(clientId, replyAddress, refusal);
                await Refuse(context, StatusCodes.Status403Forbidden, id, McpErrorCode.InvalidParams, $"The webhook URL is refused by the server's reply-address policy: {refusal}", ErrorReasons.ReplyAddressRefused).ConfigureAwait(false);
                return false;
            }
        }
        else
        {
            replyAddress = null;
        }

        if (rpc is JsonRpcRequest && replyAddress is not null && !_delivery.HasRoom(replyAddress))
        {
            // This client's webhook is not keeping up: it waits, not everyone else.
            context.Response.Headers.RetryAfter = "1";
            await Refuse(context, StatusCodes.Status503ServiceUnavailable, id, McpErrorCode.InternalError, $"{_options.MaxQueuedDeliveriesPerClient} messages are waiting to be delivered to your webhook; try again once it has taken them.", ErrorReasons.ServerBusy).ConfigureAwait(false);
            return false;
        }

        // Concurrent POSTs are admitted against the limit together with those still being routed (not yet holding a slot),
        // so that a burst cannot overshoot MaxConcurrentRequests; a request counted twice for a moment is merely told to retry.
        var admitted = rpc is JsonRpcRequest;
        if (admitted && Dispatcher.PendingRequestCount + Interlocked.Increment(ref _admitting) > _options.MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _admitting);
            context.Response.Headers.RetryAfter = "1";
            await Refuse(context, StatusCodes.Status503ServiceUnavailable, id, McpErrorCode.InternalError, $"The server has its maximum of {_options.MaxConcurrentRequests} requests in flight; try again shortly.", ErrorReasons.ServerBusy).ConfigureAwait(false);
            return false;
        }

        try
        {
            return await RouteAsync(context, rpc, decoded, body, attributes, webhookId, replyAddress, isInitialize).ConfigureAwait(false);
        }
        finally
        {
            if (admitted)
            {
                Interlocked.Decrement(ref _admitting);
            }
        }
    }

    /// <summary>Hands an admitted POST's message to the dispatcher and writes the POST's status.</summary>
    private async Task<bool> RouteAsync(HttpContext context, JsonRpcMessage rpc, DecodeResult decoded, string body, Dictionary<string, string> attributes, string? webhookId, string? replyAddress, bool isInitialize)
    {
        var message = new PushedMessage(webhookId ?? Guid.NewGuid().ToString("N"), body, attributes)
        {
            OnReleased = replyAddress is null || rpc is not JsonRpcRequest released ? null : pushed => TellNotAnsweredAsync(pushed, released.Id, replyAddress),
        };

        // Routing waits neither for the answer nor for any delivery (sends only queue them), and the request must not
        // be cancelled when this POST ends.
        var routedSession = await Dispatcher.DispatchAsync(message, decoded, CancellationToken.None).ConfigureAwait(false);
        if (isInitialize && routedSession is not null)
        {
            context.Response.Headers[WebhookHeaders.SessionId] = routedSession;
            await WebhookStatus.WriteAsync(context, WebhookStatus.SessionCreated, routedSession).ConfigureAwait(false);
        }
        else if (rpc is JsonRpcNotification { Method: NotificationMethods.InitializedNotification })
        {
            await WebhookStatus.WriteAsync(context, WebhookStatus.Initialized).ConfigureAwait(false);
        }
        else
        {
            await WebhookStatus.WriteAsync(context, WebhookStatus.Received).ConfigureAwait(false);
        }

        return true;
    }

    private async Task HandleDeleteAsync(HttpContext context)
    {
        var verified = _verifier.Verify(context.Request.Headers, []);
        if (verified.Outcome == VerificationOutcome.Refused)
        {
            LogBadSignature(context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)", verified.Reason!);
            await Refuse(context, StatusCodes.Status401Unauthorized, default, McpErrorCode.InvalidRequest, verified.Reason!, ErrorReasons.BadSignature).ConfigureAwait(false);
            return;
        }

        var sessionId = context.Request.Headers[WebhookHeaders.SessionId].ToString();
        if (sessionId.Length == 0)
        {
            await Refuse(context, StatusCodes.Status400BadRequest, default, McpErrorCode.InvalidRequest, $"DELETE needs the {WebhookHeaders.SessionId} header of the session to close.", ErrorReasons.MissingHeader).ConfigureAwait(false);
            return;
        }

        if (verified.Outcome != VerificationOutcome.Replayed && !await Dispatcher.CloseSessionAsync(sessionId, "closed by the client (DELETE)").ConfigureAwait(false))
        {
            await Refuse(context, StatusCodes.Status404NotFound, default, McpErrorCode.InvalidRequest, $"Session '{sessionId}' is unknown or has already ended.", ErrorReasons.SessionNotFound).ConfigureAwait(false);
            return;
        }

        await WebhookStatus.WriteAsync(context, WebhookStatus.Terminated).ConfigureAwait(false);
    }

    /// <summary>
    /// A request the server took but will not answer (it is stopping, or the session closed as it arrived): unlike a
    /// queue there is no redelivery, so the client is told, instead of waiting for an answer that will never come.
    /// </summary>
    private async Task TellNotAnsweredAsync(PushedMessage message, RequestId requestId, string replyAddress)
    {
        message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        var error = JsonRpcErrors.Create(requestId, McpErrorCode.InternalError, "The server stopped, or the session closed, before this request was answered; send it again (on a new session if needed).", ErrorReasons.NotAnswered);
        using var timeout = new CancellationTokenSource(_options.DeliveryTimeout);
        try
        {
            // Queued, not delivered: shutdown gives every queued delivery one deadline together.
            await _delivery.SendAsync(replyAddress, OutboundMessageFactory.Create(error, DateTimeOffset.UtcNow, sessionId, clientId), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogNotAnsweredUndelivered(requestId.ToString(), replyAddress, ex);
        }
    }

    /// <summary>
    /// A message that could not be delivered after its retries: nothing can reach this client any more, so its session
    /// is closed rather than left half-alive, running tools whose results can never arrive.
    /// </summary>
    private async Task OnDeliveryFailedAsync(DeliveryFailure failure)
    {
        failure.Message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId);
        failure.Message.Attributes.TryGetValue(WireAttributes.ClientId, out var clientId);
        var what = WebhookDelivery.Describe(failure.Message);
        if (!string.IsNullOrEmpty(sessionId) && Dispatcher.HasSession(sessionId))
        {
            LogDeliveryFailedClosing(sessionId, what, failure.Address, failure.Exception);
            await Dispatcher.CloseSessionAsync(sessionId, $"delivery to its reply address failed ({failure.Exception.Message})").ConfigureAwait(false);
        }
        else
        {
            LogDeliveryFailed(sessionId ?? "(none)", clientId ?? "(none)", what, failure.Address, failure.Exception);
        }
    }

    private static Task Refuse(HttpContext context, int statusCode, RequestId id, McpErrorCode code, string message, string reason) =>
        WebhookStatus.WriteErrorAsync(context, statusCode, JsonRpcErrors.Create(id, code, message, reason));

    /// <summary>Closes every session (requests in flight get up to the drain timeout) and stops delivering. Safe to call more than once.</summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>
    /// Stops serving: requests in flight get up to <see cref="AsyncMcpServerTransportOptions.ShutdownDrainTimeout"/>,
    /// every session is closed, requests left unanswered are answered with an error (reason <c>not_answered</c>), and
    /// what is still queued for clients' webhooks gets one <see cref="WebhookServerTransportOptions.DeliveryTimeout"/>,
    /// all together, before it is cancelled. <paramref name="cancellationToken"/> (a host's stop token) cuts every wait
    /// short. Safe to call more than once; never throws.
    /// </summary>
    /// <param name="cancellationToken">When cancelled, nothing more is waited for.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Dispatcher.StopAsync(cancellationToken).ConfigureAwait(false);
        await _delivery.StopAsync(_options.DeliveryTimeout, cancellationToken).ConfigureAwait(false);
        _delivery.Dispose();
        _http.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The webhook server accepts unsigned requests (Security.AllowUnsigned, or no secret): anyone who can reach it can act as a client. Use this only with peers that cannot sign, such as the Python asyncmcp.")]
    private partial void LogUnsigned();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request from {RemoteAddress} was refused (401): {Reason}")]
    private partial void LogBadSignature(string remoteAddress, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} was received before (a retry or a replay); not processed again.")]
    private partial void LogReplayed(string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId} named webhook {WebhookUrl}, refused by the reply-address policy: {Refusal}")]
    private partial void LogAddressRefused(string clientId, string webhookUrl, string refusal);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: {What} could not be delivered to {WebhookUrl} after its retries; the session is closed.")]
    private partial void LogDeliveryFailedClosing(string sessionId, string what, string webhookUrl, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} (client {ClientId}): {What} could not be delivered to {WebhookUrl} after its retries.")]
    private partial void LogDeliveryFailed(string sessionId, string clientId, string what, string webhookUrl, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} was not answered, and telling its client at {WebhookUrl} failed too.")]
    private partial void LogNotAnsweredUndelivered(string requestId, string webhookUrl, Exception exception);
}
