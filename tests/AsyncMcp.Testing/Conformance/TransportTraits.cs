namespace AsyncMcp.Testing.Conformance;

/// <summary>A part of the conformance suite that a transport can declare does not apply to it, with the reason.</summary>
public enum ConformanceAspect
{
    /// <summary>Sampling and elicitation requests from a server to a client of the 2026-07-28 revision (no session).</summary>
    ServerRequestsWithoutSession,

    /// <summary>Requests beyond the in-flight limit wait for a free slot, none lost.</summary>
    BackPressure,

    /// <summary>Stopping the server lets the requests in flight finish and their answers reach their clients.</summary>
    ShutdownDrain,

    /// <summary>Requests still running when the drain time runs out go back to the broker, or their clients are told.</summary>
    ShutdownUnanswered,

    /// <summary>A request that names no reply address is refused without opening a session.</summary>
    MissingReplyAddress,
}

/// <summary>The error a server sends for a request on a session it does not hold.</summary>
/// <param name="Code">The JSON-RPC error code.</param>
/// <param name="Reason">The <c>data.reason</c>, or <see langword="null"/> when the transport's errors carry none.</param>
/// <param name="MessageFragment">Words the error message contains.</param>
public sealed record UnknownSessionError(int Code, string? Reason, string MessageFragment);

/// <summary>What a transport is like, where the conformance suite's expectations differ between transports.</summary>
public sealed record TransportTraits
{
    /// <summary>The transport's name, for skip reasons and messages.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Whether bad input is answered on the request itself (an HTTP response), so that even input from a sender the
    /// server cannot identify gets an answer; queue transports answer at a reply address, when the input names one.
    /// </summary>
    public bool AnswersOnTheRequest { get; init; }

    /// <summary>The error for a request on an unknown or expired session.</summary>
    public UnknownSessionError UnknownSession { get; init; } = new(-32600, "session_not_found", "unknown or has expired");

    /// <summary>
    /// Whether requests left unanswered at shutdown go back to the broker, to be delivered again to the next server
    /// (<see cref="ServerUnderTest.StartSuccessorAsync"/>); otherwise nothing redelivers them, and each client is told
    /// with an error whose reason is <c>not_answered</c>.
    /// </summary>
    public bool RedeliversUnanswered { get; init; } = true;

    /// <summary>
    /// Whether every progress notice of a call reaches the client before the call's result (deliveries to a client go
    /// one at a time, in order). Otherwise the last notice, which a tool reports fire-and-forget, may trail the result.
    /// </summary>
    public bool AllProgressBeforeResult { get; init; }

    /// <summary>Whether clients of a transport can share one reply address (a queue or topic that several connections read).</summary>
    public bool SharesReplyAddresses { get; init; }

    /// <summary>What a server logs when a client cancels a running call, when it logs anything.</summary>
    public string? CancellationLog { get; init; }

    /// <summary>
    /// Part of what a server logs when it takes a call of the named tool off its request to run it in the background,
    /// for a transport that does (the hybrid: a webhook tool, answered by webhook); <see langword="null"/> otherwise.
    /// </summary>
    public Func<string, string>? BackgroundCallLog { get; init; }

    /// <summary>The parts of the suite that do not apply to this transport, each with the reason.</summary>
    public IReadOnlyDictionary<ConformanceAspect, string> NotApplicable { get; init; } = new Dictionary<ConformanceAspect, string>();
}
