using System.Collections.Concurrent;
using System.Text;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;

namespace AsyncMcp.AspNetCore.Webhooks.Client;

/// <summary>
/// The client's end of webhook delivery: an HTTP endpoint that verifies each delivery's signature and hands it to
/// the client connection it is for. One receiver can serve many connections; each connection's webhook URL carries
/// its own <c>client</c> query parameter. A <see cref="WebhookClientTransport"/> runs its own receiver on its own
/// listener unless given one that is mounted in an existing app with <c>MapMcpWebhookReceiver</c>.
/// </summary>
public sealed partial class WebhookReceiver
{
    /// <summary>The query parameter that names the connection a delivery is for.</summary>
    public const string ConnectionParameter = "client";

    private readonly ConcurrentDictionary<string, PushedReplyFeed> _connections = new(StringComparer.Ordinal);
    private readonly WebhookVerifier _verifier;
    private readonly int _maxBodyBytes;
    private readonly ILogger _logger;

    /// <summary>Creates a receiver.</summary>
    /// <param name="security">How deliveries are verified; validated here.</param>
    /// <param name="maxBodyBytes">The largest delivery accepted; larger ones are answered 413.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public WebhookReceiver(WebhookSecurityOptions security, int maxBodyBytes = 16 * 1024 * 1024, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(security);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBodyBytes, 1024);
        var signer = security.Validate(nameof(WebhookReceiver));
        _verifier = new WebhookVerifier(signer, security.AllowUnsigned, security.TimestampTolerance);
        _maxBodyBytes = maxBodyBytes;
        _logger = loggerFactory?.CreateLogger<WebhookReceiver>() ?? NullLogger<WebhookReceiver>.Instance;
        if (signer is null || security.AllowUnsigned)
        {
            LogUnsigned();
        }
    }

    /// <summary>Connects a connection's reply feed to this receiver: deliveries for it go straight to it.</summary>
    internal IDisposable Register(string connection, PushedReplyFeed source)
    {
        if (!_connections.TryAdd(connection, source))
        {
            throw new InvalidOperationException($"Connection '{connection}' is already registered.");
        }

        return new Registration(this, connection, source);
    }

    /// <summary>Handles one delivery: POST a JSON-RPC message, or a JSON array of them (see <see cref="WebhookBatches"/>).</summary>
    /// <param name="context">The HTTP context.</param>
    /// <returns>A task that completes when the response is written.</returns>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await Refuse(context, StatusCodes.Status405MethodNotAllowed, default, $"{request.Method} is not supported; deliveries are POSTed.", ErrorReasons.InvalidMessage).ConfigureAwait(false);
            return;
        }

        if (!WebhookStatus.IsJson(request))
        {
            await Refuse(context, StatusCodes.Status415UnsupportedMediaType, default, $"Content-Type must be application/json (was '{request.ContentType ?? "none"}').", ErrorReasons.UnsupportedContentType).ConfigureAwait(false);
            return;
        }

        var bytes = await WebhookStatus.ReadBodyAsync(request, _maxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (bytes is null)
        {
            await Refuse(context, StatusCodes.Status413PayloadTooLarge, default, $"The delivery is larger than the {_maxBodyBytes} bytes this client accepts.", ErrorReasons.PayloadTooLarge).ConfigureAwait(false);
            return;
        }

        var verified = _verifier.Verify(request.Headers, bytes);
        if (verified.Outcome == VerificationOutcome.Refused)
        {
            LogBadSignature(context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)", verified.Reason!);
            await Refuse(context, StatusCodes.Status401Unauthorized, default, verified.Reason!, ErrorReasons.BadSignature).ConfigureAwait(false);
            return;
        }

        if (verified.Outcome == VerificationOutcome.Replayed)
        {
            LogReplayed(verified.MessageId!);
            await WebhookStatus.WriteAsync(context, WebhookStatus.Duplicate).ConfigureAwait(false);
            return;
        }

        var connection = request.Query[ConnectionParameter].ToString();
        if (!_connections.TryGetValue(connection, out var source))
        {
            _verifier.Forget(verified.MessageId);
            await Refuse(context, StatusCodes.Status404NotFound, default, $"No client connection '{connection}' is listening here (it has closed).", ErrorReasons.SessionNotFound).ConfigureAwait(false);
            return;
        }

        var id = verified.MessageId ?? Guid.NewGuid().ToString("N");
        var headers = WebhookHeaders.Read(request.Headers);
        IReadOnlyList<string> bodies;
        if (WebhookBatches.IsBatch(bytes))
        {
            // Several messages in one delivery (an AsyncMcp server batching answers for this connection's session).
            if (WebhookBatches.Split(bytes, out var problem) is not { } split)
            {
                _verifier.Forget(verified.MessageId);
                await Refuse(context, StatusCodes.Status400BadRequest, default, $"The delivery is not a valid batch: {problem}.", ErrorReasons.InvalidMessage).ConfigureAwait(false);
                return;
            }

            bodies = split;
        }
        else
        {
            bodies = [Encoding.UTF8.GetString(bytes)];
        }

        for (var i = 0; i < bodies.Count; i++)
        {
            var message = new PushedMessage(bodies.Count == 1 ? id : $"{id}#{i}", bodies[i], headers);
            if (!await source.PushAsync(message, context.RequestAborted).ConfigureAwait(false))
            {
                // Only a connection that is starting or closing takes nothing; a retry finds it open, or gone (404).
                _verifier.Forget(verified.MessageId);
                context.Response.Headers.RetryAfter = "1";
                await Refuse(context, StatusCodes.Status503ServiceUnavailable, default, "The client connection is not taking deliveries now (starting or closing); try again shortly.", ErrorReasons.ServerBusy).ConfigureAwait(false);
                return;
            }
        }

        await WebhookStatus.WriteAsync(context, WebhookStatus.Success).ConfigureAwait(false);
    }

    private static Task Refuse(HttpContext context, int statusCode, ModelContextProtocol.Protocol.RequestId id, string message, string reason) =>
        WebhookStatus.WriteErrorAsync(context, statusCode, JsonRpcErrors.Create(id, McpErrorCode.InvalidRequest, message, reason));

    [LoggerMessage(Level = LogLevel.Warning, Message = "This webhook receiver accepts unsigned deliveries (Security.AllowUnsigned, or no secret): anyone who can reach it can speak as the server. Use this only with servers that cannot sign, such as the Python asyncmcp.")]
    private partial void LogUnsigned();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A delivery from {RemoteAddress} was refused (401): {Reason}")]
    private partial void LogBadSignature(string remoteAddress, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery {MessageId} was received before (a retry); not processed again.")]
    private partial void LogReplayed(string messageId);

    private sealed class Registration(WebhookReceiver owner, string connection, PushedReplyFeed source) : IDisposable
    {
        public void Dispose()
        {
            owner._connections.TryRemove(new KeyValuePair<string, PushedReplyFeed>(connection, source));
            // Completes at once: the feed only stops taking deliveries.
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
