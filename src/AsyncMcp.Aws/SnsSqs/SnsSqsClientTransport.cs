using Amazon.S3;
using Amazon.SQS;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Client;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.SnsSqs;

/// <summary>
/// A client transport for <see cref="McpClient.CreateAsync"/> that publishes requests to the server's SNS topic
/// and receives replies from its own queue, subscribed to its own topic (raw or enveloped delivery).
/// </summary>
public sealed class SnsSqsClientTransport : IClientTransport
{
    private readonly IAmazonSQS _sqs;
    private readonly ISnsClient _sns;
    private readonly SnsSqsClientTransportOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly S3PayloadStore? _payloads;

    /// <summary>Creates the transport.</summary>
    /// <param name="sqs">The SQS client; not disposed by this transport.</param>
    /// <param name="sns">The SNS client requests are published with; not disposed by this transport.</param>
    /// <param name="options">The transport settings; validated here.</param>
    /// <param name="loggerFactory">The logger factory.</param>
    /// <param name="s3">The S3 client for <see cref="SqsBackedClientTransportOptions.LargePayloads"/>; required when that is set.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public SnsSqsClientTransport(IAmazonSQS sqs, ISnsClient sns, SnsSqsClientTransportOptions options, ILoggerFactory? loggerFactory = null, IAmazonS3? s3 = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(sns);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _sqs = sqs;
        _sns = sns;
        _options = options;
        _loggerFactory = loggerFactory;
        _payloads = LargePayloadStore.Create(options.LargePayloads, s3, nameof(SnsSqsClientTransportOptions));
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <inheritdoc />
    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        SqsBackedClient.ConnectAsync(
            _sqs,
            _options,
            _options.ClientQueueUrl,
            $"{nameof(SnsSqsClientTransportOptions)}.{nameof(SnsSqsClientTransportOptions.ClientQueueUrl)}",
            new SnsMessageSink(_sns, _options.MaxMessageBytes, _payloads),
            _options.ServerTopicArn,
            _options.ClientTopicArn,
            ReplyAddressConvention.SnsClientTopic,
            "aws_sns",
            _payloads,
            _loggerFactory,
            cancellationToken);
}
