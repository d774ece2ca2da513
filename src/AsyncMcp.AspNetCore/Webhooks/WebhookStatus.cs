using System.Text.Json;
using AsyncMcp.Wire;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Webhooks;

/// <summary>Writes the small JSON status bodies of asyncmcp's webhook transport, and JSON-RPC errors, as HTTP responses.</summary>
internal static class WebhookStatus
{
    public const string SessionCreated = "session_created";
    public const string Initialized = "initialized";
    public const string Received = "received";
    public const string Terminated = "terminated";
    public const string Success = "success";
    public const string Duplicate = "duplicate";

    public static Task WriteAsync(HttpContext context, string status, string? sessionId = null)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        var body = sessionId is null
            ? JsonSerializer.Serialize(new Dictionary<string, string> { ["status"] = status })
            : JsonSerializer.Serialize(new Dictionary<string, string> { ["status"] = status, ["session_id"] = sessionId });
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    public static Task WriteErrorAsync(HttpContext context, int statusCode, JsonRpcError error)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonRpcCodec.Serialize(error), context.RequestAborted);
    }

    /// <summary>
    /// Reads the body up to a limit: <see langword="null"/> when it is longer. The rest of a longer body is left unread,
    /// so the answer then says <c>Connection: close</c>: the client must not send its next request on a connection the
    /// server is about to drop.
    /// </summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var body = await ReadLimitedAsync(request, maxBytes, cancellationToken).ConfigureAwait(false);
        if (body is null && !request.HttpContext.Response.HasStarted)
        {
            request.HttpContext.Response.Headers.Connection = "close";
        }

        return body;
    }

    private static async Task<byte[]?> ReadLimitedAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        // The server's own limit (Kestrel's default is 30 MB) must not cut in before ours, in either direction.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = maxBytes + (64L * 1024);
        }

        try
        {
            return request.ContentLength is { } length
                ? await ReadExactlyAsync(request.Body, (int)length, cancellationToken).ConfigureAwait(false)
                : await ReadChunkedAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The server counts body bytes as it decodes them, which can run ahead of what has been read here.
            return null;
        }
    }

    /// <summary>A body of a declared length, read straight into an array of that length (one allocation per message).</summary>
    private static async Task<byte[]> ReadExactlyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var total = 0;
        int read;
        while (total < length && (read = await body.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        // Kestrel fails a read when a body ends before its Content-Length, so a short read is not expected here.
        return total == length ? buffer : buffer[..total];
    }

    /// <summary>A body of no declared length (chunked), read through a pooled buffer up to <paramref name="maxBytes"/>.</summary>
    private static async Task<byte[]?> ReadChunkedAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream(4096);
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    /// <summary>Whether the request declares a JSON body (<c>application/json</c>, any parameters).</summary>
    public static bool IsJson(HttpRequest request) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) &&
        mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
