using System.Diagnostics;

namespace AsyncMcp.Benchmarks;

/// <summary>
/// Where the time of one call goes, at concurrency 1 (one call at a time, so that every timestamp belongs to the call in
/// flight): the call itself, its request and its reply on the wire and back (from <see cref="AsyncMcp.Testing.AwsRequestCounter"/>,
/// at the HTTP layer), and, on an MCP server, where the SDK's handling starts and ends (its message filters, registered
/// once on the benchmark's server options, which mark <see cref="Current"/>). Each point keeps its first time per call.
/// </summary>
internal sealed class CallTimeline
{
    /// <summary>The points of a call, in the order a call passes them.</summary>
    public enum Point
    {
        /// <summary>The caller starts the call.</summary>
        CallStarted,

        /// <summary>The request's send request leaves for the broker.</summary>
        RequestOnWire,

        /// <summary>The server's receive request comes back with the request.</summary>
        RequestReceived,

        /// <summary>The MCP SDK starts handling the request (its incoming message filter).</summary>
        HandlerStarted,

        /// <summary>The MCP SDK hands the answer to the transport (its outgoing message filter).</summary>
        AnswerSent,

        /// <summary>The reply's send request leaves for the broker.</summary>
        ReplyOnWire,

        /// <summary>The client's receive request comes back with the reply.</summary>
        ReplyReceived,

        /// <summary>The call returns to the caller.</summary>
        CallReturned,
    }

    private static readonly int s_points = Enum.GetValues<Point>().Length;

    private readonly List<long[]> _calls = [];
    private long[]? _call;

    /// <summary>The timeline being recorded, if any: the one place the server options' filters can find it.</summary>
    public static CallTimeline? Current { get; set; }

    /// <summary>Calls recorded.</summary>
    public int Calls => _calls.Count;

    /// <summary>Starts a call: later marks belong to it.</summary>
    public void Begin()
    {
        var call = new long[s_points];
        call[(int)Point.CallStarted] = Stopwatch.GetTimestamp();
        _calls.Add(call);
        Volatile.Write(ref _call, call);
    }

    /// <summary>Marks <paramref name="point"/> for the call in flight, unless it was marked already.</summary>
    public void Mark(Point point)
    {
        if (Volatile.Read(ref _call) is { } call)
        {
            Interlocked.CompareExchange(ref call[(int)point], Stopwatch.GetTimestamp(), 0);
        }
    }

    /// <summary>Marks what a counted AWS request means for the call in flight: a send before it goes out, a receive that brought a message when it is back.</summary>
    /// <param name="server">Whether the request is the serving side's.</param>
    /// <param name="operation">The request's operation.</param>
    /// <param name="response">Its response once it is back, <see langword="null"/> before it goes out.</param>
    public void Observe(bool server, string operation, HttpResponseMessage? response)
    {
        if (response is null && operation is "SendMessage" or "SendMessageBatch" or "Publish" or "PublishBatch")
        {
            Mark(server ? Point.ReplyOnWire : Point.RequestOnWire);
        }
        else if (response is not null && operation == "ReceiveMessage" && response.Content.Headers.ContentLength is null or > 20)
        {
            // An empty receive answers "{}" or {"Messages":[]}.
            Mark(server ? Point.RequestReceived : Point.ReplyReceived);
        }
    }

    /// <summary>
    /// The segments between consecutive points that the recorded calls (of <paramref name="timelines"/> together) passed (all
    /// but a few: a send retried, say), with their median in microseconds over the calls that passed both ends.
    /// </summary>
    public static IReadOnlyList<(Point From, Point To, double MedianMicroseconds)> Segments(IEnumerable<CallTimeline> timelines)
    {
        var calls = timelines.SelectMany(t => t._calls).Where(c => c[(int)Point.CallReturned] != 0).ToList();
        if (calls.Count == 0)
        {
            return [];
        }

        var passed = Enum.GetValues<Point>().Where(p => calls.Count(c => c[(int)p] != 0) >= calls.Count * 0.99).ToList();
        return [.. passed.Zip(passed.Skip(1), (from, to) =>
        {
            var spans = calls
                .Where(c => c[(int)from] != 0 && c[(int)to] != 0)
                .Select(c => Stopwatch.GetElapsedTime(c[(int)from], c[(int)to]).TotalMicroseconds)
                .Order()
                .ToList();
            return (from, to, spans[spans.Count / 2]);
        })];
    }
}
