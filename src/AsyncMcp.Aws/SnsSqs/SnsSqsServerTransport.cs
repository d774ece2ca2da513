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
public sealed class SnsSqsServerTransport : SqsBackedServerTransport
{
    /// <summary>Creates the transport; <see cref="SqsBackedServerTransport.StartAsync"/> begins serving.</summary>
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
        : base(Create(sqs, sns, options, serverOptions, loggerFactory, services, s3))
    {
    }

    private static SqsBackedServer Create(IAmazonSQS sqs, ISnsClient sns, SnsSqsServerTransportOptions options, McpServerOptions serverOptions, ILoggerFactory? loggerFactory, IServiceProvider? services, IAmazonS3? s3)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(sns);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serverOptions);
        options.Validate();

        return new SqsBackedServer(
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
}
