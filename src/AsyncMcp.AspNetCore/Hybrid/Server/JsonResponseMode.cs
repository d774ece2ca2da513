using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// JSON response mode: the SDK always answers a POSTed request with an SSE stream; this captures that stream and sends
/// the request's response as one <c>application/json</c> body instead. Other messages on the stream (progress, log
/// messages, requests to the client) go to the session's GET stream while it is open, as they are read.
/// </summary>
internal static partial class JsonResponseMode
{
    private static readonly Lazy<JsonSerializerOptions> s_json = new(() => McpJsonUtilities.DefaultOptions);

    /// <param name="context">The POST.</param>
    /// <param name="inner">The SDK's handler.</param>
    /// <param name="session">Finds the session once the SDK has named it.</param>
    /// <param name="withholdAcknowledgement">
    /// The id of a <c>tools/call</c> from a client that does not read acknowledgements: if the response is one, the
    /// POST is answered <c>202 Accepted</c> with no body instead (the result follows by webhook).
    /// </param>
    /// <param name="logger">The logger.</param>
    public static async Task HandlePostAsync(HttpContext context, RequestDelegate inner, Func<HybridSession?> session, RequestId? withholdAcknowledgement, ILogger logger)
    {
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var pipe = new Pipe();
        var capture = new CapturingBodyFeature(pipe.Writer);
        context.Features.Set<IHttpResponseBodyFeature>(capture);
        var reading = ReadAsync(context, pipe.Reader, session, logger, context.RequestAborted);
        try
        {
            await inner(context).ConfigureAwait(false);
        }
        catch
        {
            // The request failed (the client went away, say): let the reader finish before the failure goes on.
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            context.Features.Set(original);
            await ((Task)reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        context.Features.Set(original);

        var outcome = await reading.ConfigureAwait(false);
        if (outcome.Raw is { } raw)
        {
            // Not an event stream (an error status with a JSON body, say): pass it on as the SDK wrote it.
            await context.Response.Body.WriteAsync(raw, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (outcome.Final is not { } final || (final is JsonRpcResponse response && response.Id == withholdAcknowledgement && HybridMeta.IsAcknowledgement(response)))
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = null;
            return;
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(final, s_json.Value.GetTypeInfo(typeof(JsonRpcMessage)));
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<Outcome> ReadAsync(HttpContext context, PipeReader reader, Func<HybridSession?> session, ILogger logger, CancellationToken cancellationToken)
    {
        // The pipe is read to its end, which comes when the SDK's handler returns (also when the client goes away), so
        // its reads take no token; the token is for forwarding messages to the GET stream.
        // Wait for the first bytes: by then the SDK has chosen the content type.
        var first = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
        reader.AdvanceTo(first.Buffer.Start);
        var isEventStream = context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ?? false;
        if (!isEventStream)
        {
            using var buffer = new MemoryStream();
            await reader.CopyToAsync(buffer, CancellationToken.None).ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
            return new Outcome(null, buffer.Length == 0 && first.IsCompleted ? [] : buffer.ToArray());
        }

        JsonRpcMessage? final = null;
        var stream = reader.AsStream();
        await using (stream.ConfigureAwait(false))
        {
            var parser = SseParser.Create(stream, static (_, data) => data.ToArray());
            await foreach (var item in parser.EnumerateAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (item.Data.Length == 0)
                {
                    continue;
                }

                JsonRpcMessage? message;
                try
                {
                    message = JsonSerializer.Deserialize(item.Data, s_json.Value.GetTypeInfo(typeof(JsonRpcMessage))) as JsonRpcMessage;
                }
                catch (JsonException)
                {
                    continue;
                }

                if (message is JsonRpcResponse or JsonRpcError)
                {
                    final = message;
                    continue;
                }

                if (message is not null)
                {
                    await ForwardAsync(message, session(), logger, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return new Outcome(final, null);
    }

    private static async Task ForwardAsync(JsonRpcMessage message, HybridSession? session, ILogger logger, CancellationToken cancellationToken)
    {
        if (session is { HasOpenStream: true })
        {
            try
            {
                await session.Server!.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (InvalidOperationException)
            {
                // The stream closed meanwhile.
            }
        }

        var what = message is JsonRpcRequest request ? $"request '{request.Method}'" : $"notification '{((JsonRpcNotification)message).Method}'";
        LogNotForwarded(logger, what, session?.SessionId ?? "(none)");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "JSON response mode: the {What} of session {SessionId} was not delivered; it cannot ride a JSON body and no GET stream is open.")]
    private static partial void LogNotForwarded(ILogger logger, string what, string sessionId);

    private readonly record struct Outcome(JsonRpcMessage? Final, byte[]? Raw);

    /// <summary>A response body that goes into a pipe and never starts the real response.</summary>
    private sealed class CapturingBodyFeature(PipeWriter writer) : IHttpResponseBodyFeature
    {
        private Stream? _stream;

        public Stream Stream => _stream ??= writer.AsStream(leaveOpen: true);

        public PipeWriter Writer => writer;

        public Task CompleteAsync() => Task.CompletedTask;

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The MCP endpoint does not send files.");

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
