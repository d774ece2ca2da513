using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.SnsSqs;

/// <summary>
/// Serves MCP over SNS+SQS: receives every client's requests from the server's queue (subscribed to the server
/// topic, raw or enveloped), runs one <see cref="McpServer"/> per session, and publishes each reply to the topic
/// its client named in <c>_meta.clientTopicArn</c>.
/// </summary>
public sealed class SnsSqsServerTransport : IAsyncDisposable
{
    private readonly SqsBackedServer _server;

    /// <summary>Creates the transport; <see cref="StartAsync"/> begins serving.</summary>
    /// <param name="sqs">The SQS client; not disposed by this transport.</param>
    /// <param name="sns">The SNS client replies are published with; not disposed by this transport.</param>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources).</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider for tool dependencies.</param>
    /// <param name="s3">The S3 client for <see cref="SqsBackedServerTransportOptions.LargePayloads"/>; required when that is set.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public SnsSqsServerTransport(
        IAmazonSQS sqs,
        ISnsClient sns,
        SnsSqsServerTransportOptions options,
        McpServerOptions serverOptions,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        IAmazonS3? s3 = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(sns);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();

        _server = new SqsBackedServer(
            sqs,
            options,
            options.ServerQueueUrl,
            $"{nameof(SnsSqsServerTransportOptions)}.{nameof(SnsSqsServerTransportOptions.ServerQueueUrl)}",
            payloads => new SnsMessageSink(sns, options.MaxMessageBytes, payloads),
            ReplyAddressConvention.SnsClientTopic,
            "aws_sns",
            serverOptions,
            loggerFactory,
            services,
            s3);
    }

    /// <summary>The dispatcher, once started: its counters for tests and benchmarks.</summary>
    internal MessageDispatcher? Dispatcher => _server.Dispatcher;

    /// <summary>This server's worker id, once started, when it is one of several workers on its queue.</summary>
    public string? WorkerId => _server.WorkerId;

    /// <summary>Checks that the server queue exists, then starts receiving.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that completes once the server is receiving.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default) => _server.StartAsync(cancellationToken);

    /// <summary>Stops receiving at once, drains requests in flight, and closes every session. Safe to call more than once.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
