using System.Text.Json.Nodes;
using System.Threading.Channels;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// One inbound request, as the transport the SDK answers it on (the request's
/// <see cref="JsonRpcMessageContext.RelatedTransport"/>): its answer, its progress and its requests to the client go
/// through here to its reply address. It owns the broker message that carried the request, that message's lease, its
/// slot among the requests in flight and its entry in the answer cache, and settles the message exactly once: completed
/// after the answer reached the broker, left for redelivery when the answer could not be sent, completed or handed back
/// when its session closes.
/// </summary>
internal sealed partial class RequestTransport : ITransport
{
    private readonly ServerSession _session;
    private readonly JsonRpcRequest _request;
    private readonly string _replyAddress;
    private readonly MessageLease _lease;
    private readonly ILogger _logger;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private IInboundMessage _message;
    private string? _answerErrorType;
    private bool _answered;
    private int _settled;

    /// <summary>Takes a slot among the requests in flight, and starts renewing the message's lease.</summary>
    /// <param name="session">The session (or session-less context) the request belongs to.</param>
    /// <param name="cacheKey">Where its answer is remembered: its session, or for an initialize its client's initialize key.</param>
    /// <param name="request">The request.</param>
    /// <param name="message">The broker message that carried it.</param>
    /// <param name="fingerprint">Tells a copy of this request from a different request reusing its id.</param>
    /// <param name="replyAddress">Where everything about this request goes.</param>
    public RequestTransport(ServerSession session, SessionKey cacheKey, JsonRpcRequest request, IInboundMessage message, int fingerprint, string replyAddress)
    {
        _session = session;
        _request = request;
        _message = message;
        _replyAddress = replyAddress;
        CacheKey = cacheKey;
        Fingerprint = fingerprint;
        var context = session.Context;
        _logger = context.LoggerFactory?.CreateLogger<RequestTransport>() ?? NullLogger<RequestTransport>.Instance;

        // Counted first: a settle racing with this must never release a slot that was not yet taken.
        context.Limiter.Acquire();
        context.Metrics.RequestStarted();
        _lease = new MessageLease(() => _message, context.Endpoint.LeaseDuration ?? Timeout.InfiniteTimeSpan, context.Time, _logger);
    }

    public RequestId Id => _request.Id;

    public SessionKey CacheKey { get; }

    public int Fingerprint { get; }

    /// <summary>The broker message; replaced when the broker hands out the same message again with a new receipt.</summary>
    public IInboundMessage Message => Volatile.Read(ref _message);

    /// <inheritdoc />
    public string? SessionId => _session.SessionId;

    /// <summary>The id the client sent with the request (an AsyncMcp client sends its configured id and a per-connection suffix), if any.</summary>
    public string? ClientId => _session.ClientId;

    /// <inheritdoc />
    public ChannelReader<JsonRpcMessage> MessageReader =>
        throw new NotSupportedException("A request's transport only sends; requests arrive through their session.");

    /// <summary>Hands the request to its session's SDK server, with this as the transport to answer on.</summary>
    public Task DeliverAsync(CancellationToken cancellationToken)
    {
        _request.Context ??= new JsonRpcMessageContext();
        _request.Context.RelatedTransport = this;
        return _session.WriteAsync(_request, cancellationToken);
    }

    /// <summary>The broker handed out this request's message again while it runs (its lease lapsed): keep the new receipt.</summary>
    public void Redelivered(IInboundMessage message)
    {
        Volatile.Write(ref _message, message);
        _lease.Renewed();
    }

    /// <inheritdoc />
    public async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (CacheKey.Kind == SessionKeyKind.Initialize && message is JsonRpcResponse initializeAnswer && initializeAnswer.Id == Id)
        {
            // The answer that opens the session is where the server says what it understands beyond MCP, whatever serves
            // the session (an McpServer, or a bridge forwarding another server's answer).
            SessionCloseSupport.Declare(initializeAnswer);
            if (_session.Context.Placement is { } placement && initializeAnswer.Result is JsonObject result && result["_meta"] is JsonObject meta)
            {
                placement.Describe(meta);
            }
        }

        var context = _session.Context;
        var outbound = context.Build(message, _session.SessionId, _session.ClientId, _session.Key.Value);
        if (outbound.AnsweredId != Id)
        {
            // Progress, a log message or a request to the client on this request's behalf.
            await _session.SendAsync(outbound, _replyAddress, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await _session.SendAsync(outbound, _replyAddress, cancellationToken, send: ct => SendAnswerAsync(outbound, ct)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAnswerSendFailed(_session.Key, Id, _replyAddress, ex);
            Abandon(ex);
            throw;
        }

        _answerErrorType = Diagnostics.AsyncMcpMetrics.ErrorType(message);
        _answered = true;
        await CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Remembers the answer before sending it, so a redelivery can be answered even if this send fails; too large an answer becomes a short error.</summary>
    private async Task SendAnswerAsync(OutboundMessage answer, CancellationToken cancellationToken)
    {
        var context = _session.Context;
        try
        {
            context.Answers.Remember(CacheKey, Id, Fingerprint, _replyAddress, answer);
            await context.Sink.SendAsync(_replyAddress, answer, cancellationToken).ConfigureAwait(false);
        }
        catch (MessageTooLargeException tooLarge)
        {
            LogResponseTooLarge(_session.Key, Id, tooLarge.ActualBytes, tooLarge.MaxBytes);
            var error = JsonRpcErrors.ResponseTooLarge(Id, tooLarge, "the transport can carry");
            var replacement = context.Build(error, _session.SessionId, _session.ClientId, _session.Key.Value);
            context.Answers.Remember(CacheKey, Id, Fingerprint, _replyAddress, replacement);
            await context.Sink.SendAsync(_replyAddress, replacement, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Done: the message is deleted. Also for a request its client cancelled or whose session its client closed.</summary>
    public Task CompleteAsync() => TrySettle(_answered ? _answerErrorType : "cancelled") ? Message.CompleteQuietlyAsync(_logger) : Task.CompletedTask;

    /// <summary>Not done here: the message goes back to the broker at once, for the next server.</summary>
    public Task ReleaseAsync() => TrySettle(null, handedBack: true) ? Message.ReleaseQuietlyAsync(_logger) : Task.CompletedTask;

    /// <summary>Dropped without an answer, nothing told the broker: a queue delivers it again once its lease ends (which also spaces out the retry).</summary>
    /// <param name="failure">Why, when the answer could not be sent.</param>
    public void Abandon(Exception? failure = null)
    {
        if (!TrySettle(failure is null ? "abandoned" : Diagnostics.AsyncMcpMetrics.ErrorType(failure)))
        {
            return;
        }

        if (_session.Context.Endpoint.Redelivers)
        {
            LogAbandoned(Message.MessageId, _session.Key, Id);
        }
        else
        {
            LogAbandonedNotRedelivered(Message.MessageId, _session.Key, Id);
        }
    }

    /// <summary>Gives back the slot of a request that was never tracked (a copy of one already in flight).</summary>
    public void Withdraw() => TrySettle(null, handedBack: true, counted: false);

    /// <summary>Frees what the request held, once; <see langword="false"/> if it was already settled.</summary>
    /// <param name="errorType">For the metrics: <see langword="null"/> for a result, else why the request failed.</param>
    /// <param name="handedBack">Not settled here: back to the broker, or a copy never run.</param>
    /// <param name="counted">Whether the request was counted as received.</param>
    private bool TrySettle(string? errorType, bool handedBack = false, bool counted = true)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return false;
        }

        _lease.Dispose();
        _session.Untrack(this);
        _session.Context.Limiter.Release();
        _session.Context.Metrics.RequestSettled(_request.Method, _started, errorType, handedBack || !counted);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>Settling is explicit; the SDK never owns this transport.</remarks>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey}: the answer to request {RequestId} could not be sent to {ReplyAddress}.")]
    private partial void LogAnswerSendFailed(SessionKey sessionKey, RequestId requestId, string replyAddress, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionKey}: the response to request {RequestId} is {ActualBytes} bytes, over the limit of {MaxBytes}; an error is sent instead.")]
    private partial void LogResponseTooLarge(SessionKey sessionKey, RequestId requestId, int actualBytes, int maxBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (request {RequestId} of {SessionKey}) was not answered; it is left for the broker to deliver again.")]
    private partial void LogAbandoned(string messageId, SessionKey sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} (request {RequestId} of {SessionKey}) was not answered, and nothing delivers it again: its client has to send it again.")]
    private partial void LogAbandonedNotRedelivered(string messageId, SessionKey sessionKey, RequestId requestId);
}
