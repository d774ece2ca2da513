using System.Net;
using Amazon.Runtime;
using Amazon.SQS.Model;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sqs;

/// <summary>Tells passing SQS failures (throttling, 5xx, timeouts, lost connections) from lasting ones.</summary>
internal static class SqsErrors
{
    private static readonly HashSet<string> s_transientCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
        "ServiceUnavailable", "InternalError", "InternalFailure", "RequestTimeout", "RequestTimeoutException",
        "KmsThrottled", "SlowDown",
    };

    public static bool IsTransient(Exception exception) => exception switch
    {
        QueueDoesNotExistException => false,
        AmazonServiceException service => (int)service.StatusCode >= 500 || service.StatusCode == HttpStatusCode.TooManyRequests || (service.ErrorCode is { } code && s_transientCodes.Contains(code)) || service.StatusCode == 0,
        AmazonClientException => true,
        HttpRequestException => true,
        IOException => true,
        TimeoutException => true,
        TaskCanceledException => true,
        _ => false,
    };

    /// <summary>A receive error that retrying cannot fix for a client: its reply queue does not exist.</summary>
    public static bool IsFatalForClient(Exception exception) =>
        exception is QueueDoesNotExistException ||
        exception is AmazonServiceException { ErrorCode: "AWS.SimpleQueueService.NonExistentQueue" or "QueueDoesNotExist" } ||
        (exception.InnerException is { } inner && IsFatalForClient(inner));

    public static AsyncMcpTransportException Wrap(string operation, string queueUrl, Exception exception) =>
        IsFatalForClient(exception)
            ? new DestinationNotFoundException(queueUrl, $"SQS {operation} on {queueUrl} failed: {exception.Message}", exception)
            : new AsyncMcpTransportException($"SQS {operation} on {queueUrl} failed: {exception.Message}", IsTransient(exception), exception);
}
