using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace AsyncMcp.Messaging;

/// <summary>
/// Retries sends that failed in a way that may pass, with exponential backoff and jitter (Polly), up to
/// <see cref="SendRetryOptions.MaxAttempts"/> attempts and, when set, for <see cref="SendRetryOptions.MaxRetryTime"/>;
/// a permanent failure (an oversized message, a queue that does not exist) is not retried. The last failure is rethrown for
/// the caller to report with its session and request id.
/// </summary>
internal sealed partial class RetryingMessageSink : IMessageSink
{
    private static readonly ResiliencePropertyKey<long> s_started = new("asyncmcp.send.started");
    private readonly IMessageSink _inner;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;

    /// <summary>Wraps a sink.</summary>
    /// <param name="inner">The sink that talks to the broker.</param>
    /// <param name="options">The retry settings.</param>
    /// <param name="logger">Logs each retry.</param>
    public RetryingMessageSink(IMessageSink inner, SendRetryOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        _logger = logger ?? NullLogger.Instance;
        var builder = new ResiliencePipelineBuilder();
        var maxRetryTime = options.MaxRetryTime;
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is AsyncMcpTransportException { IsTransient: true } &&
                    (maxRetryTime is not { } limit || Elapsed(args.Context) < limit)),
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    LogRetry(args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.Message ?? "unknown");
                    Diagnostics.AsyncMcpMetrics.SendRetries.Add(1, new KeyValuePair<string, object?>("messaging.system", MessagingSystem));
                    return default;
                },
            });
        }

        _pipeline = builder.Build();
    }

    /// <summary>The value of <c>messaging.system</c> on send spans, such as <c>aws_sqs</c> or <c>aws_sns</c>.</summary>
    public string MessagingSystem { get; init; } = "asyncmcp";

    /// <inheritdoc />
    public async Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Attributes.TryGetValue(Wire.WireAttributes.Method, out var method);
        message.Attributes.TryGetValue(Wire.WireAttributes.SessionId, out var sessionId);
        using var activity = Diagnostics.AsyncMcpTelemetry.StartSend(MessagingSystem, address, method, sessionId);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(s_started, Stopwatch.GetTimestamp());
        try
        {
            await _pipeline.ExecuteAsync(
                static async (context, state) => await state.Inner.SendAsync(state.Address, state.Message, context.CancellationToken).ConfigureAwait(false),
                context,
                (Inner: _inner, Address: address, Message: message)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Diagnostics.AsyncMcpTelemetry.Fail(activity, ex);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static TimeSpan Elapsed(ResilienceContext context) =>
        context.Properties.TryGetValue(s_started, out var started) ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero;

    /// <inheritdoc />
    public bool PreservesOrder(string address) => _inner.PreservesOrder(address);

    /// <inheritdoc />
    public bool OrdersDeliveries => _inner.OrdersDeliveries;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Send failed ({Error}); retry {Attempt} in {DelayMs:F0} ms.")]
    private partial void LogRetry(int attempt, double delayMs, string error);
}
