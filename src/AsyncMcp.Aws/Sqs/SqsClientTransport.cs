using Amazon.SQS;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Sqs;

/// <summary>
/// A client transport for <see cref="McpClient.CreateAsync"/> that sends requests to a server's SQS request
/// queue and receives replies from the client's own response queue.
/// </summary>
/// <example>
/// <code>
/// var transport = new SqsClientTransport(sqs, new SqsClientTransportOptions
/// {
///     ServerRequestQueueUrl = requestQueueUrl,
///     ResponseQueueUrl = responseQueueUrl,
/// });
/// await using var client = await McpClient.CreateAsync(transport);
/// </code>
/// </example>
public sealed class SqsClientTransport : IClientTransport
{
    private readonly IAmazonSQS _sqs;
    private readonly SqsClientTransportOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly LargePayloads.S3PayloadStore? _payloads;

    /// <summary>Creates the transport.</summary>
    /// <param name="sqs">The SQS client; not disposed by this transport.</param>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="s3">The S3 client for <see cref="SqsBackedClientTransportOptions.LargePayloads"/>; required when that is set. Not disposed by this transport.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public SqsClientTransport(IAmazonSQS sqs, SqsClientTransportOptions options, ILoggerFactory? loggerFactory = null, Amazon.S3.IAmazonS3? s3 = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _sqs = sqs;
        _options = options;
        _loggerFactory = loggerFactory;
        _payloads = LargePayloads.LargePayloadStore.Create(options.LargePayloads, s3, nameof(SqsClientTransportOptions));
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <inheritdoc />
    /// <exception cref="AsyncMcpTransportException">The response queue does not exist or cannot be reached.</exception>
    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        SqsBackedClient.ConnectAsync(
            _sqs,
            _options,
            _options.ResponseQueueUrl,
            $"{nameof(SqsClientTransportOptions)}.{nameof(SqsClientTransportOptions.ResponseQueueUrl)}",
            new SqsMessageSink(_sqs, _options.MaxMessageBytes, _payloads),
            _options.ServerRequestQueueUrl,
            _options.ResponseQueueUrl,
            ReplyAddressConvention.SqsResponseQueue,
            "aws_sqs",
            _payloads,
            _loggerFactory,
            cancellationToken);
}
