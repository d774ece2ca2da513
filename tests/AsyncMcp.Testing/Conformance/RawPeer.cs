using System.Text.Json.Nodes;

namespace AsyncMcp.Testing.Conformance;

/// <summary>One message as a peer other than our client transport would send it: exactly these bytes, these attributes.</summary>
/// <param name="Body">The body, sent as it is.</param>
public sealed record RawRequest(string Body)
{
    /// <summary>The session id to send with it (attribute or header), if any.</summary>
    public string? SessionId { get; init; }

    /// <summary>The protocol revision to name in the transport's protocol-version attribute or header, if any.</summary>
    public string? ProtocolVersion { get; init; }
}

/// <summary>What the server answered on the request itself: an HTTP status and body. Queue transports answer nothing here.</summary>
/// <param name="Status">The HTTP status, or <see langword="null"/> when the transport has no answer on the request.</param>
/// <param name="Message">The JSON body of the answer, if any.</param>
public sealed record RawAnswer(int? Status, JsonObject? Message)
{
    /// <summary>No answer on the request: whatever the server says comes at the reply address.</summary>
    public static RawAnswer None { get; } = new(null, null);

    /// <summary>Whether the answer is a JSON-RPC error.</summary>
    public bool IsError => Message?["error"] is JsonObject;
}

/// <summary>
/// A client written at the wire level for one transport, with a reply address of its own: sends exactly the bytes a
/// test wants and reads what comes back, on the request (HTTP) or at its reply address (a queue, a webhook).
/// </summary>
public abstract class RawPeer : IAsyncDisposable
{
    /// <summary>The key under <c>params._meta</c> where requests name this peer's reply address; <see langword="null"/> when the transport answers on the request.</summary>
    public virtual string? ReplyAddressKey => null;

    /// <summary>This peer's reply address (a queue URL, a topic ARN, a webhook URL); <see langword="null"/> when the transport answers on the request.</summary>
    public virtual string? ReplyAddress => null;

    /// <summary>
    /// Names this peer's reply address in a request where the transport carries it (<c>params._meta</c>), creating
    /// <c>params</c> as needed; a transport that answers on the request leaves the request as it is.
    /// </summary>
    /// <param name="request">The request to change.</param>
    /// <returns>The same request.</returns>
    public JsonObject NameReplyAddress(JsonObject request) =>
        ReplyAddressKey is { } key && ReplyAddress is { } address ? NameInMeta(request, key, address) : request;

    /// <summary>Opens a 2025-11-25 session (initialize, its answer, notifications/initialized) and returns its id.</summary>
    public abstract Task<string> OpenSessionAsync();

    /// <summary>Sends one message and returns what came back on the request itself.</summary>
    /// <param name="request">The message.</param>
    public abstract Task<RawAnswer> SendAsync(RawRequest request);

    /// <summary>Waits for the next message at this peer's reply address that matches, failing the test at the deadline.</summary>
    /// <param name="match">Which message is awaited.</param>
    /// <param name="deadline">How long it may take; <see cref="Waiting.DefaultDeadline"/> when <see langword="null"/>.</param>
    public abstract Task<JsonObject> ReceiveAsync(Func<JsonObject, bool> match, TimeSpan? deadline = null);

    /// <summary>Sends a JSON message, with this peer's reply address named in it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="sessionId">The session to send it on, if any.</param>
    public Task<RawAnswer> SendAsync(JsonObject message, string? sessionId = null) =>
        SendAsync(new RawRequest(NameReplyAddress(message).ToJsonString()) { SessionId = sessionId });

    /// <summary>
    /// The error the server gave for a message: the answer on the request when it is one, else the next error at this
    /// peer's reply address that <paramref name="match"/> accepts.
    /// </summary>
    /// <param name="answer">What came back on the request.</param>
    /// <param name="match">Which error at the reply address is the one; any when <see langword="null"/>.</param>
    public async Task<JsonObject> ErrorAsync(RawAnswer answer, Func<JsonObject, bool>? match = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.IsError)
        {
            return answer.Message!;
        }

        return await ReceiveAsync(m => m["error"] is JsonObject && (match?.Invoke(m) ?? true));
    }

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Names <paramref name="address"/> under <c>params._meta.<paramref name="key"/></c>, creating <c>params</c> and <c>_meta</c> as needed.</summary>
    /// <param name="request">The request to change.</param>
    /// <param name="key">The reply address's key (<c>responseQueueUrl</c>, <c>clientTopicArn</c>, <c>webhookUrl</c>).</param>
    /// <param name="address">The reply address.</param>
    /// <returns>The same request.</returns>
    private static JsonObject NameInMeta(JsonObject request, string key, string address)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request["params"] is not JsonObject parameters)
        {
            parameters = [];
            request["params"] = parameters;
        }

        if (parameters["_meta"] is not JsonObject meta)
        {
            meta = [];
            parameters["_meta"] = meta;
        }

        meta[key] = address;
        return request;
    }

    /// <summary>A JSON-RPC request with an object <c>params</c>.</summary>
    public static JsonObject Request(JsonNode id, string method, JsonObject? parameters = null) => new()
    {
        ["jsonrpc"] = "2.0",
        ["id"] = id,
        ["method"] = method,
        ["params"] = parameters ?? [],
    };

    /// <summary>An initialize request of the 2025-11-25 revision.</summary>
    public static JsonObject Initialize(int id) => Request(id, "initialize", new JsonObject
    {
        ["protocolVersion"] = Protocols.November2025,
        ["capabilities"] = new JsonObject(),
        ["clientInfo"] = new JsonObject { ["name"] = "raw-peer", ["version"] = "0.0.1" },
    });
}
