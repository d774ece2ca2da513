using System.Globalization;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Server;

/// <summary>
/// Answers input that will not be processed: sends the JSON-RPC error where its sender can see it and settles the
/// message; input nobody can be told about is logged and left to the dead-letter queue when there is one.
/// </summary>
internal sealed partial class Rejections(DispatchContext context, ReplyAddressConvention convention, ILogger logger)
{
    /// <summary>The request's own reply address if it names a well-formed one; logs a missing or malformed one.</summary>
    public string? ReadReplyAddress(IInboundMessage message, JsonRpcRequest request)
    {
        var address = convention.Read(request);
        if (address is null)
        {
            LogMissingReplyAddress(message.MessageId, request.Method, convention.MetaKey);
            return null;
        }

        if (!convention.IsWellFormed(address))
        {
            LogMalformedReplyAddress(message.MessageId, request.Method, convention.MetaKey, address, convention.Expected);
            return null;
        }

        return address;
    }

    /// <summary>
    /// Where an error for a request goes: its own reply address, else its session's; or, when session requests may not
    /// name their own (<see cref="InboundEndpoint.SessionRequestsNameReplyAddress"/>), only its session's.
    /// </summary>
    public string? ErrorAddressFor(JsonRpcRequest request, string? sessionId, ServerSession? session)
    {
        if (!context.Endpoint.SessionRequestsNameReplyAddress && (!string.IsNullOrEmpty(sessionId) || session?.SessionId is not null))
        {
            return session?.ReplyAddress;
        }

        return (convention.Read(request) is { } own && convention.IsWellFormed(own) ? own : null) ?? session?.ReplyAddress;
    }

    /// <summary>
    /// Answers a body that is not a JSON-RPC message: with the id its body names (or, for a body that is not JSON at all,
    /// its <c>RequestId</c> attribute), at the reply address the body names where it is readable, else the session's.
    /// </summary>
    public Task RejectUndecodableAsync(IInboundMessage message, DecodeResult decoded, string? sessionId, string? clientId, string? sessionReplyAddress, CancellationToken cancellationToken)
    {
        var id = decoded.Id;
        if (id.Id is null && decoded.ErrorCode == McpErrorCode.ParseError &&
            message.Attributes.TryGetValue(WireAttributes.RequestId, out var text) && !string.IsNullOrEmpty(text))
        {
            id = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? new RequestId(number) : new RequestId(text);
        }

        var replyAddress = sessionReplyAddress;
        if (context.Endpoint.SessionRequestsNameReplyAddress && convention.Read(decoded) is { } named && convention.IsWellFormed(named))
        {
            replyAddress = named;
        }

        var reason = decoded.ErrorCode == McpErrorCode.ParseError ? ErrorReasons.ParseError : ErrorReasons.InvalidMessage;
        return RejectAsync(message, JsonRpcErrors.Create(id, decoded.ErrorCode, decoded.Error!, reason), replyAddress, sessionId, clientId, cancellationToken);
    }

    /// <summary>Sends <paramref name="error"/> to <paramref name="replyAddress"/> and completes the message; with no address, logs and drops it.</summary>
    public async Task RejectAsync(IInboundMessage message, JsonRpcError error, string? replyAddress, string? sessionId, string? clientId, CancellationToken cancellationToken)
    {
        LogRejected(message.MessageId, error.Error.Code, error.Error.Message, replyAddress ?? "(none: logged only)");
        message.Attributes.TryGetValue(WireAttributes.Method, out var method);
        context.Metrics.Refused(method, Diagnostics.AsyncMcpMetrics.ErrorType(error.Error.Code));
        if (replyAddress is null && !context.Endpoint.SessionRequestsNameReplyAddress && !string.IsNullOrEmpty(sessionId))
        {
            // The request's session closed as it arrived, and the request may not say where else to answer: its source is
            // told instead (a webhook endpoint answers its sender at the address it checked).
            await message.ReleaseQuietlyAsync(logger, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (replyAddress is null)
        {
            await DropUnprocessableAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await context.Sink.SendAsync(replyAddress, context.Build(error, sessionId, clientId, sessionId ?? clientId), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogErrorReplyFailed(message.MessageId, replyAddress, ex);
        }

        await message.CompleteQuietlyAsync(logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses a request that would need a new session or context beyond the limit.</summary>
    public Task RefuseAtLimitAsync(IInboundMessage message, JsonRpcRequest request, string replyAddress, string? clientId, int maxSessions, CancellationToken cancellationToken) =>
        RejectAsync(message, JsonRpcErrors.Create(request.Id, McpErrorCode.InvalidRequest, $"The server already holds its maximum of {maxSessions} sessions and clients; try again later.", ErrorReasons.SessionLimitReached), replyAddress, null, clientId, cancellationToken);

    /// <summary>Refuses a request because the server is stopping.</summary>
    public Task RefuseStoppingAsync(IInboundMessage message, JsonRpcRequest request, string? replyAddress, string? sessionId, string? clientId, CancellationToken cancellationToken) =>
        RejectAsync(message, JsonRpcErrors.Create(request.Id, McpErrorCode.InvalidRequest, sessionId is null ? "The server is stopping and takes no new work; send the request again (another server on the queue takes it)." : $"The server holding session '{sessionId}' is stopping and takes no new requests; start a new session.", ErrorReasons.ServerStopping), replyAddress, sessionId, clientId, cancellationToken);

    /// <summary>Input nobody can be told about: handed back for the redrive policy when there is a dead-letter queue, else deleted (it was logged).</summary>
    public Task DropUnprocessableAsync(IInboundMessage message, CancellationToken cancellationToken)
    {
        if (!context.Endpoint.DeadLetters)
        {
            return message.CompleteQuietlyAsync(logger, cancellationToken);
        }

        context.Metrics.HandedBackForRedrive(message.ReceiveCount, context.Endpoint.MaxReceiveCount);
        return message.ReleaseQuietlyAsync(logger, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Method} names no reply address (params._meta.{MetaKey}); nothing can be sent back, so it is dropped.")]
    private partial void LogMissingReplyAddress(string messageId, string method, string metaKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId}: {Method} names a malformed reply address in params._meta.{MetaKey} ('{Address}', expected {Expected}); nothing can be sent back, so it is dropped.")]
    private partial void LogMalformedReplyAddress(string messageId, string method, string metaKey, string address, string expected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} rejected with error {Code} ({Error}); reply sent to {ReplyAddress}.")]
    private partial void LogRejected(string messageId, int code, string error, string replyAddress);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId}: the error reply to {ReplyAddress} could not be sent.")]
    private partial void LogErrorReplyFailed(string messageId, string replyAddress, Exception exception);
}
