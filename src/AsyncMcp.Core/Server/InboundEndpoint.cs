namespace AsyncMcp.Server;

/// <summary>
/// What the inbound side of a server is, given once when the server is built: these facts decide what happens to a
/// message that cannot be answered, and what is promised in the logs.
/// </summary>
internal sealed record InboundEndpoint
{
    /// <summary>The <c>messaging.system</c> on spans, such as <c>aws_sqs</c>.</summary>
    public required string MessagingSystem { get; init; }

    /// <summary>Names the endpoint (a queue URL, an HTTP path) on spans and in logs.</summary>
    public required string Description { get; init; }

    /// <summary>How long the broker keeps a received message invisible; <see langword="null"/> for messages without leases.</summary>
    public TimeSpan? LeaseDuration { get; init; }

    /// <summary>
    /// Whether a message handed back or never completed is delivered again (a queue, once its lease ends). A webhook
    /// endpoint's messages are not: its client is told instead, and a session whose client can no longer be reached is
    /// closed, since nothing would ever deliver to it again.
    /// </summary>
    public bool Redelivers { get; init; } = true;

    /// <summary>
    /// Whether the source has a dead-letter queue: input that can be neither processed nor answered is then handed back
    /// for the redrive policy to move intact, instead of being deleted after it was logged.
    /// </summary>
    public bool DeadLetters { get; init; }

    /// <summary>After how many receives the broker moves a message to the dead-letter queue, when known.</summary>
    public int? MaxReceiveCount { get; init; }

    /// <summary>
    /// Whether a request of a session may name a reply address of its own for the errors sent to it. Queue transports
    /// need it (a request redelivered to a server that never had its session must still hear that the session was
    /// lost); a webhook server checks a client's address against its policy only when a session opens, so it answers a
    /// session's requests only where the session is.
    /// </summary>
    public bool SessionRequestsNameReplyAddress { get; init; } = true;
}
