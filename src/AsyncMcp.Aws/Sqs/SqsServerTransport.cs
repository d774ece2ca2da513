using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Server;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// Serves MCP over SQS: receives every client's requests from one request queue, runs one
/// <see cref="McpServer"/> per session, and sends each reply to the queue its client named.
/// </summary>
/// <remarks>
/// Use it directly, or through <c>services.AddMcpServer().WithSqsServerTransport(...)</c> in a host. The MCP SDK
/// runs one session per transport; this class is the multiplexer that gives each client its own session.
/// </remarks>
public sealed class SqsServerTransport : IAsyncDisposable
{
    private readonly SqsBackedServer _server;

    /// <summary>Creates the transport; <see cref="StartAsync"/> begins serving.</summary>
    /// <param name="sqs">The SQS client; not disposed by this transport.</param>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="serverOptions">The MCP server's options (tools, prompts, resources).</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="services">The service provider for tool dependencies.</param>
    /// <param name="s3">The S3 client for <see cref="SqsBackedServerTransportOptions.LargePayloads"/>; required when that is set. Not disposed by this transport.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public SqsServerTransport(
        IAmazonSQS sqs,
        SqsServerTransportOptions options,
        McpServerOptions serverOptions,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? services = null,
        IAmazonS3? s3 = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();

        _server = new SqsBackedServer(
            sqs,
            options,
            options.RequestQueueUrl,
            $"{nameof(SqsServerTransportOptions)}.{nameof(SqsServerTransportOptions.RequestQueueUrl)}",
            payloads => new SqsMessageSink(sqs, options.MaxMessageBytes, payloads),
            ReplyAddressConvention.SqsResponseQueue,
            "aws_sqs",
            serverOptions,
            loggerFactory,
            services,
            s3);
    }

    /// <summary>The dispatcher, once started: its counters for tests and benchmarks.</summary>
    internal MessageDispatcher? Dispatcher => _server.Dispatcher;

    /// <summary>This server's worker id, once started, when it is one of several workers on its queue.</summary>
    public string? WorkerId => _server.WorkerId;

    /// <summary>Checks that the request queue exists, then starts receiving.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that completes once the server is receiving.</returns>
    /// <exception cref="Messaging.AsyncMcpTransportException">The request queue does not exist or cannot be reached.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) => _server.StartAsync(cancellationToken);

    /// <summary>
    /// Stops receiving at once (cancelling a long poll in flight), waits for requests in flight up to
    /// <see cref="AsyncMcpServerTransportOptions.ShutdownDrainTimeout"/>, returns unfinished requests to the
    /// queue and closes every session. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
