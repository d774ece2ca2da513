using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// Takes a request into its session: answers it again if it was answered within the duplicate window, recognises a
/// copy or a redelivery of one still running, and otherwise hands it to the session with its own
/// <see cref="RequestTransport"/>. Also passes the client's notifications and answers on, settling a request its client cancelled.
/// </summary>
internal sealed partial class RequestIntake(DispatchContext context, Rejections rejections, Func<string, bool> hasSession, ILogger logger)
{
    /// <summary>Answers a request again if it was answered within the duplicate window (and, for an initialize, its session is still open).</summary>
    public async Task<OutboundMessage?> TryAnswerAgainAsync(IInboundMessage message, SessionKey cacheKey, RequestId id, int fingerprint, CancellationToken cancellationToken)
    {
        if (!context.Answers.TryGet(cacheKey, id, fingerprint, out var address, out var answer) ||
            (cacheKey.Kind == SessionKeyKind.Initialize && !(answer.Attributes.TryGetValue(WireAttributes.SessionId, out var opened) && hasSession(opened))))
        {
            return null;
        }

        LogAnsweredAgain(message.MessageId, cacheKey, id, message.ReceiveCount);
        try
        {
            await context.Sink.SendAsync(address, answer, cancellationToken).ConfigureAwait(false);
            await message.CompleteQuietlyAsync(logger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Still not delivered: the message stays on the broker for another attempt, then its redrive policy.
            LogAnswerAgainFailed(cacheKey, id, address, ex);
        }

        return answer;
    }

    public async Task AcceptAsync(ServerSession session, SessionKey cacheKey, IInboundMessage message, JsonRpcRequest request, int fingerprint, string replyAddress, CancellationToken cancellationToken)
    {
        if (cacheKey.Kind != SessionKeyKind.Initialize && await TryAnswerAgainAsync(message, cacheKey, request.Id, fingerprint, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        var inbound = new RequestTransport(session, cacheKey, request, message, fingerprint, replyAddress);
        if (!session.TryTrack(inbound))
        {
            inbound.Withdraw();
            if (session.FindRequest(request.Id) is { } running)
            {
                await OnDuplicateAsync(session, running, message, request, fingerprint, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        context.Metrics.RequestReceived(request.Method, message.ReceiveCount);
        try
        {
            await inbound.DeliverAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not handed over (stopping, most likely): the message goes back to the broker as it was.
            await inbound.ReleaseAsync().ConfigureAwait(false);
            throw;
        }

        if (!session.IsConnected)
        {
            // The session closed between routing and delivery and the SDK dropped the request: routed afresh next time.
            LogClosedWhileRouting(message.MessageId, session.Key, context.Endpoint.Redelivers ? "handed back to the broker to be routed again" : "handed back to its source, which does not deliver it again (a webhook endpoint tells the client)");
            await inbound.ReleaseAsync().ConfigureAwait(false);
        }
    }

    public async Task OnDuplicateAsync(ServerSession session, RequestTransport running, IInboundMessage message, JsonRpcRequest request, int fingerprint, CancellationToken cancellationToken)
    {
        if (running.Fingerprint != fingerprint)
        {
            // Another request reusing the id of one that is still running: refuse it rather than drop it.
            var error = JsonRpcErrors.Create(request.Id, McpErrorCode.InvalidRequest, $"Request id '{request.Id}' is already in use by a request that is still running; use a new id.", ErrorReasons.InvalidMessage);
            await rejections.RejectAsync(message, error, rejections.ErrorAddressFor(request, session.SessionId, session), session.SessionId, session.ClientId, cancellationToken).ConfigureAwait(false);
        }
        else if (running.Message.MessageId == message.MessageId)
        {
            // The broker handed out the same message again (its lease was lost): keep its new receipt so the answer still deletes it.
            running.Redelivered(message);
            LogRedeliveredWhileRunning(message.MessageId, running.CacheKey, request.Id);
        }
        else
        {
            // A copy (another message, same request) while the original runs: run it once.
            LogDuplicateInFlight(message.MessageId, running.CacheKey, request.Id);
            await message.CompleteQuietlyAsync(logger, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A notification or an answer from the client. The SDK sends no answer to a request its client cancelled, so that
    /// request's message is completed here: otherwise it would stay in flight until shutdown and then run again elsewhere.
    /// </summary>
    public async Task PassOnAsync(ServerSession session, JsonRpcMessage rpc, CancellationToken cancellationToken)
    {
        await session.WriteAsync(rpc, cancellationToken).ConfigureAwait(false);
        if (rpc is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled &&
            Wire.RequestIds.FromCancellation(cancelled) is { } id &&
            session.FindRequest(id) is { } request)
        {
            LogCancelledRequestCompleted(request.Message.MessageId, session.Key, id);
            await request.CompleteAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was already answered (receive count {ReceiveCount}); the answer is sent again and the request is not run again.")]
    private partial void LogAnsweredAgain(string messageId, SessionKey sessionKey, RequestId requestId, int receiveCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionKey}: the answer to request {RequestId} could not be sent to {ReplyAddress} again.")]
    private partial void LogAnswerAgainFailed(SessionKey sessionKey, RequestId requestId, string replyAddress, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} is already in flight; the duplicate is not run again.")]
    private partial void LogDuplicateInFlight(string messageId, SessionKey sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was delivered again while still running (its lease lapsed); kept with its new receipt.")]
    private partial void LogRedeliveredWhileRunning(string messageId, SessionKey sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId}: request {RequestId} of {SessionKey} was cancelled by its client; its message is completed without an answer.")]
    private partial void LogCancelledRequestCompleted(string messageId, SessionKey sessionKey, RequestId requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: session {SessionKey} closed while the request was being routed; {Outcome}.")]
    private partial void LogClosedWhileRouting(string messageId, SessionKey sessionKey, string outcome);
}
