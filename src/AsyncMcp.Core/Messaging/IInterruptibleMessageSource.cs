namespace AsyncMcp.Messaging;

/// <summary>
/// A message source whose long poll in flight its owner can end early and cleanly, rather than abandon it. A broker
/// may keep serving an abandoned poll (an SQS receive whose connection was closed, say): it then takes the next
/// message, which stays invisible for the receive's visibility timeout although nobody reads it.
/// </summary>
internal interface IInterruptibleMessageSource : IMessageSource
{
    /// <summary>
    /// Makes the receive in flight return soon and waits until it has; when none is in flight, the next receive returns
    /// at once, empty. Messages the ended receive took are returned by it as usual.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait (the caller then abandons the receive as before).</param>
    /// <returns>A task that completes when the receive in flight has returned.</returns>
    Task InterruptAsync(CancellationToken cancellationToken);
}
