using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid;

/// <summary>
/// The <c>_meta</c> keys the hybrid transport reads and writes: how a client names its webhook, how a tool definition
/// says that it answers by webhook, and how the acknowledgement of such a call is marked.
/// </summary>
internal static class HybridMeta
{
    /// <summary>
    /// The client's webhook URL, in <c>initialize</c>'s <c>params._meta</c> (asyncmcp's wire format) and, for sessionless
    /// requests (protocol revision 2026-07-28), in each request's <c>params._meta</c>.
    /// </summary>
    public const string WebhookUrl = "webhookUrl";

    /// <summary>
    /// How a tool's final result is delivered. On a tool definition in <c>tools/list</c>: <see cref="Webhook"/> for tools
    /// that answer by webhook. On a <c>tools/call</c> request: <see cref="Stream"/> asks for the result on the stream
    /// this once. On the acknowledgement of a webhook call: <see cref="Webhook"/>.
    /// </summary>
    public const string Delivery = "asyncmcp/delivery";

    /// <summary>The value of <see cref="Delivery"/> for results sent to the client's webhook.</summary>
    public const string Webhook = "webhook";

    /// <summary>The value of <see cref="Delivery"/> for results sent on the HTTP stream, as any Streamable HTTP server does.</summary>
    public const string Stream = "stream";

    /// <summary>
    /// Set to <see langword="true"/> in the <c>_meta</c> of the result that acknowledges a webhook call: the POST that
    /// started the call completes at once with it, and the real result follows by webhook with the same request id.
    /// </summary>
    public const string Accepted = "asyncmcp/accepted";

    /// <summary>
    /// Set to <see langword="true"/> in a <c>tools/call</c>'s <c>params._meta</c> by clients that read acknowledgements
    /// (<see cref="Client.HybridClientTransport"/> does). Only they get one; a client that names a webhook without it
    /// (such as asyncmcp's Python hybrid client, which takes any response on the POST's stream as the call's result)
    /// gets no response on the POST at all: an SSE stream that ends empty, or <c>202 Accepted</c> in JSON response mode.
    /// </summary>
    public const string Acknowledge = "asyncmcp/acknowledge";

    /// <summary>The <c>mcp-session-id</c> header that webhook deliveries carry, as asyncmcp's hybrid server sends it.</summary>
    public const string SessionIdHeader = "mcp-session-id";

    /// <summary>Whether a response is the acknowledgement of a webhook call (<see cref="Accepted"/> true in its result's <c>_meta</c>).</summary>
    internal static bool IsAcknowledgement(JsonRpcResponse response) =>
        response.Result is JsonObject result &&
        result["_meta"] is JsonObject meta &&
        meta[Accepted] is JsonValue accepted &&
        accepted.GetValueKind() == JsonValueKind.True;
}
