using System.Net;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sns;

/// <summary>An SNS request failed: SNS answered with an error, or could not be reached.</summary>
public sealed class SnsRequestException : AsyncMcpTransportException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="action">The SNS action, such as <c>Publish</c>.</param>
    /// <param name="errorCode">The SNS error code, such as <c>NotFound</c>; <see langword="null"/> when SNS did not answer.</param>
    /// <param name="message">What failed.</param>
    /// <param name="statusCode">The HTTP status, when SNS answered.</param>
    /// <param name="isTransient">Whether trying again may succeed.</param>
    /// <param name="innerException">The underlying exception.</param>
    public SnsRequestException(string action, string? errorCode, string message, HttpStatusCode? statusCode, bool isTransient, Exception? innerException = null)
        : base($"SNS {action} failed{(errorCode is null ? string.Empty : $" ({errorCode})")}: {message}", isTransient, innerException)
    {
        Action = action;
        ErrorCode = errorCode;
        StatusCode = statusCode;
    }

    /// <summary>The SNS action.</summary>
    public string Action { get; }

    /// <summary>The SNS error code, when SNS answered with one.</summary>
    public string? ErrorCode { get; }

    /// <summary>The HTTP status, when SNS answered.</summary>
    public HttpStatusCode? StatusCode { get; }
}
