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
public sealed class SqsServerTransport : SqsBackedServerTransport
{
    /// <summary>Creates the transport; <see cref="SqsBackedServerTransport.StartAsync"/> begins serving.</summary>
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
        : base(Create(sqs, options, serverOptions, loggerFactory, services, s3))
    {
    }

    private static SqsBackedServer Create(IAmazonSQS sqs, SqsServerTransportOptions options, McpServerOptions serverOptions, ILoggerFactory? loggerFactory, IServiceProvider? services, IAmazonS3? s3)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();

        return new SqsBackedServer(
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
}
