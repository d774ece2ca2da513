namespace AsyncMcp.Messaging;

/// <summary>A broker operation failed. <see cref="IsTransient"/> says whether trying again may succeed.</summary>
public class AsyncMcpTransportException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="isTransient">Whether trying again may succeed.</param>
    /// <param name="innerException">The broker client's exception.</param>
    public AsyncMcpTransportException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
    }

    /// <summary>Whether trying again may succeed (throttling, a timeout, a 5xx, a lost connection).</summary>
    public bool IsTransient { get; }
}

/// <summary>A message is larger than the broker accepts. Trying again cannot succeed.</summary>
public sealed class MessageTooLargeException : AsyncMcpTransportException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="actualBytes">The size of the message.</param>
    /// <param name="maxBytes">The broker's limit.</param>
    public MessageTooLargeException(int actualBytes, int maxBytes)
        : base($"The message is {actualBytes} bytes, more than the {maxBytes} bytes the broker accepts.", isTransient: false)
    {
        ActualBytes = actualBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>Creates the exception for a destination that refused a message as too large without saying its limit.</summary>
    /// <param name="actualBytes">The size of the message.</param>
    /// <param name="maxBytes">The destination's limit, or 0 when it did not say.</param>
    /// <param name="message">What was refused, and by whom.</param>
    public MessageTooLargeException(int actualBytes, int maxBytes, string message)
        : base(message, isTransient: false)
    {
        ActualBytes = actualBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>The size of the message in bytes.</summary>
    public int ActualBytes { get; }

    /// <summary>The broker's limit in bytes; 0 when the destination refused the message without saying its limit.</summary>
    public int MaxBytes { get; }
}

/// <summary>
/// The address a message was sent to does not exist (an SQS queue that was deleted, say). Trying again cannot succeed.
/// </summary>
public sealed class DestinationNotFoundException : AsyncMcpTransportException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="destination">The address that does not exist.</param>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The broker client's exception.</param>
    public DestinationNotFoundException(string destination, string message, Exception? innerException = null)
        : base(message, isTransient: false, innerException)
    {
        Destination = destination;
    }

    /// <summary>The address that does not exist.</summary>
    public string Destination { get; }
}

/// <summary>
/// The server answered that it no longer has the session a message was sent in (it was closed or expired): nothing
/// more can be sent in that session, so a client transport closes when it sees this.
/// </summary>
public sealed class SessionNotFoundException : AsyncMcpTransportException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="sessionId">The session the server no longer has.</param>
    /// <param name="message">What the server said.</param>
    public SessionNotFoundException(string sessionId, string message)
        : base(message, isTransient: false)
    {
        SessionId = sessionId;
    }

    /// <summary>The session the server no longer has.</summary>
    public string SessionId { get; }
}
