using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Webhooks.Delivery;

/// <summary>
/// Sends each message as one HTTP POST (signed with Standard Webhooks when a secret is set): one attempt, with failures
/// classified: connection errors, timeouts, 408, 429 and 5xx are transient (retried by the caller); 413 is a
/// <see cref="MessageTooLargeException"/>; other refusals are final. From a client, the session-close notification
/// becomes a <c>DELETE</c>, as asyncmcp's webhook transport closes sessions.
/// </summary>
internal sealed class WebhookHttpSink : IMessageSink
{
    private const int MaxResponseBytes = 64 * 1024;
    private static readonly MediaTypeHeaderValue s_json = new("application/json");
    private readonly HttpClient _http;
    private readonly WebhookSigner? _signer;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeProvider _time;

    /// <param name="http">Sends the requests; its handler decides where connections may go.</param>
    /// <param name="signer">Signs each attempt; <see langword="null"/> sends unsigned.</param>
    /// <param name="attemptTimeout">How long one attempt may take before it counts as a transient failure.</param>
    /// <param name="time">The clock for signature timestamps.</param>
    public WebhookHttpSink(HttpClient http, WebhookSigner? signer, TimeSpan attemptTimeout, TimeProvider? time = null)
    {
        _http = http;
        _signer = signer;
        _attemptTimeout = attemptTimeout;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Called with a refusal (a 4xx other than 408 and 429) and its body; returns <see langword="true"/> when it
    /// handled it (a client hands a JSON-RPC error body to its session, for example), so the send counts as done.
    /// </summary>
    public Func<OutboundMessage, HttpStatusCode, string, Task<bool>>? OnRefused { get; init; }

    /// <summary>
    /// Whether the session-close notification goes as a <c>DELETE</c> (a client closing its session on a server, as
    /// asyncmcp's webhook servers take it; the default) or as an ordinary POSTed notification (a server telling its
    /// client's webhook, which takes only POSTs).
    /// </summary>
    public bool SessionCloseAsDelete { get; init; } = true;

    /// <summary>Extra headers for every request (the hybrid transport's <c>mcp-session-id</c>, for example).</summary>
    public Action<OutboundMessage, HttpRequestHeaders>? AddHeaders { get; init; }

    /// <inheritdoc />
    public bool PreservesOrder(string address) => false;

    /// <inheritdoc />
    /// <remarks>One attempt; order and retries are the callers' (<see cref="WebhookDelivery"/>, the client transport's lane).</remarks>
    public Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return PostAsync(address, message, cancellationToken);
    }

    private async Task PostAsync(string address, OutboundMessage message, CancellationToken cancellationToken)
    {
        var close = SessionCloseAsDelete && message.ClosesSession;
        var body = close ? [] : Encoding.UTF8.GetBytes(message.Body);
        using var request = new HttpRequestMessage(close ? HttpMethod.Delete : HttpMethod.Post, address);
        if (!close)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = s_json;
        }

        WebhookHeaders.Write(message.Attributes, (name, value) => request.Headers.TryAddWithoutValidation(name, value));
        AddHeaders?.Invoke(message, request.Headers);
        if (_signer is not null)
        {
            // The id is the same on every attempt, so a receiver that already took this message can tell a retry.
            var id = "msg_" + message.DeduplicationId;
            var now = _time.GetUtcNow();
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Id, id);
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Timestamp, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation(StandardWebhookHeaders.Signature, _signer.Sign(id, now, body));
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(_attemptTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AsyncMcpTransportException($"POST to {address} timed out after {_attemptTimeout.TotalSeconds:F1} s.", isTransient: true);
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refused)
        {
            throw refused;
        }
        catch (HttpRequestException ex)
        {
            throw new AsyncMcpTransportException($"POST to {address} failed: {ex.Message}", isTransient: true, ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var text = await ReadLimitedAsync(response, attempt.Token).ConfigureAwait(false);
            var status = response.StatusCode;
            if (status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500)
            {
                throw new AsyncMcpTransportException($"{request.Method} to {address} answered {(int)status} {response.ReasonPhrase}: {Shorten(text)}", isTransient: true);
            }

            if (status == HttpStatusCode.NotFound &&
                message.Attributes.TryGetValue(WireAttributes.SessionId, out var sessionId) &&
                JsonRpcCodec.Decode(text).Message is JsonRpcError notFound &&
                JsonRpcErrors.ReadReason(notFound) == ErrorReasons.SessionNotFound)
            {
                // The session is gone on the other side: distinct, so that a client closes instead of failing call by call.
                throw new SessionNotFoundException(sessionId, $"{request.Method} to {address}: {notFound.Error.Message}");
            }

            if (OnRefused is { } onRefused && await onRefused(message, status, text).ConfigureAwait(false))
            {
                return;
            }

            if (status == HttpStatusCode.RequestEntityTooLarge)
            {
                // A distinct type, so that a sender can send something smaller instead (a short error for an answer).
                throw new MessageTooLargeException(body.Length, 0, $"{address} refused the {body.Length}-byte message as too large (413).");
            }

            throw new AsyncMcpTransportException($"{request.Method} to {address} was refused with {(int)status} {response.ReasonPhrase}: {Shorten(text)}", isTransient: false);
        }
    }

    private static WebhookAddressRefusedException? FindRefusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is WebhookAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private static async Task<string> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var streamScope = stream.ConfigureAwait(false);
            var buffer = new byte[MaxResponseBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return string.Empty;
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
