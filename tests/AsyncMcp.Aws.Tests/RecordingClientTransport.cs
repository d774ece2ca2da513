using System.Collections.Concurrent;
using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// An SQS client transport whose sends are recorded and can be duplicated at the broker level, to deliver
/// copies of a request the way a redelivering broker or a retrying producer would.
/// </summary>
internal sealed class RecordingClientTransport(IAmazonSQS sqs, SqsClientTransportOptions options) : IClientTransport
{
    private readonly SqsMessageSink _sink = new(sqs, null);

    public ConcurrentQueue<OutboundMessage> Sent { get; } = new();

    /// <summary>When it returns true for a message, the message is sent twice.</summary>
    public Func<OutboundMessage, bool> Duplicate { get; set; } = _ => false;

    public string Name => "recording-sqs";

    public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var transport = new AsyncMcpClientSessionTransport(
            Name,
            new PolledReplyFeed(new SqsMessageSource(sqs, options.ResponseQueueUrl, options.WaitTime, options.VisibilityTimeout), options.ReceiveBatchSize, SqsErrors.IsFatalForClient, SqsHarness.LoggerFactory),
            new Sink(this),
            options.ServerRequestQueueUrl,
            options.ResponseQueueUrl,
            ReplyAddressConvention.SqsResponseQueue,
            options,
            SqsHarness.LoggerFactory);
        transport.Start();
        return Task.FromResult<ITransport>(transport);
    }

    /// <summary>Sends a recorded message again, as a broker redelivery would present it.</summary>
    public Task ResendAsync(OutboundMessage message) => _sink.SendAsync(options.ServerRequestQueueUrl, message with { DeduplicationId = Guid.NewGuid().ToString("N") });

    private sealed class Sink(RecordingClientTransport owner) : IMessageSink
    {
        public async Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
        {
            owner.Sent.Enqueue(message);
            await owner._sink.SendAsync(address, message, cancellationToken);
            if (owner.Duplicate(message))
            {
                await owner._sink.SendAsync(address, message with { DeduplicationId = Guid.NewGuid().ToString("N") }, cancellationToken);
            }
        }
    }
}
