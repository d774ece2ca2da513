using System.Text.Json.Nodes;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Sessions of several workers on one SQS queue (or one SNS-subscribed queue): session ids name the worker that holds
/// them; the answer that opens a session names this worker's own queue, so our clients send the session's later messages
/// there; a worker that receives a message of a session another worker holds sends it on to that worker's queue, or,
/// when that worker's lease has run out (it is gone), has the message answered as a lost session at once.
/// </summary>
internal sealed partial class SqsSessionPlacement(IAmazonSQS sqs, WorkerQueue own, WorkerLeases leases, ILogger? logger = null) : ISessionPlacement
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private volatile bool _stopping;

    /// <inheritdoc />
    public string WorkerId => own.WorkerId;

    /// <summary>From now on this worker's own sessions count as gone (it is stopping and has closed them).</summary>
    public void Stopping() => _stopping = true;

    /// <inheritdoc />
    public string NewSessionId() => WorkerNames.NewSessionId(own.WorkerId);

    /// <inheritdoc />
    public void Describe(JsonObject initializeResultMeta) => SessionAddresses.Write(initializeResultMeta, own.Url);

    /// <inheritdoc />
    public async Task<Handover> HandOverAsync(string sessionId, IInboundMessage message, CancellationToken cancellationToken)
    {
        if (WorkerNames.WorkerOf(sessionId) is not { } holder)
        {
            return Handover.NotElsewhere;
        }

        if (holder == own.WorkerId)
        {
            return _stopping ? Handover.HolderGone : Handover.NotElsewhere;
        }

        if (message is not SqsInboundMessage received || !await leases.IsAliveAsync(holder, cancellationToken).ConfigureAwait(false))
        {
            LogHolderGone(message.MessageId, sessionId, holder);
            return Handover.HolderGone;
        }

        var request = new SendMessageRequest
        {
            // Beside the request queue, wherever this copy was received (the shared queue, or this worker's own).
            QueueUrl = WorkerNames.WorkerQueueUrl(own.RequestQueueUrl, holder),
            MessageBody = received.RawBody,
            MessageAttributes = received.RawAttributes,
        };
        if (WorkerNames.IsFifo(request.QueueUrl))
        {
            request.MessageGroupId = sessionId;
            request.MessageDeduplicationId = received.MessageId;
        }

        try
        {
            await sqs.SendMessageAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (SqsErrors.IsFatalForClient(ex))
        {
            leases.Forget(holder);
            LogHolderGone(message.MessageId, sessionId, holder);
            return Handover.HolderGone;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A passing failure: the message stays where it is and comes back for another try.
            throw SqsErrors.Wrap("SendMessage (hand-over)", request.QueueUrl, ex);
        }

        LogHandedOver(message.MessageId, sessionId, holder);

        // Its payload, if offloaded, now belongs to the copy the holder received.
        await received.CompleteHandedOverAsync(cancellationToken).ConfigureAwait(false);
        return Handover.HandedOver;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Message {MessageId} of session {SessionId} handed over to worker {WorkerId}.")]
    private partial void LogHandedOver(string messageId, string sessionId, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId}: worker {WorkerId}, which held session {SessionId}, is gone; the session is lost.")]
    private partial void LogHolderGone(string messageId, string sessionId, string workerId);
}
