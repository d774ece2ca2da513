using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.Sns;

/// <summary>
/// Publishes messages to SNS topics by ARN, with the wire attributes as SNS message attributes; messages for one topic
/// that wait at the same moment go out as one <c>PublishBatch</c> (<see cref="SnsPublishBatcher"/>).
/// </summary>
internal sealed class SnsMessageSink(ISnsClient sns, int? maxMessageBytes, S3PayloadStore? payloads = null) : IMessageSink
{
    /// <summary>The largest message SNS accepts, body and attributes together.</summary>
    public const int SnsMaxMessageBytes = 262_144;

    public async Task SendAsync(string address, OutboundMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentNullException.ThrowIfNull(message);
        var limit = Math.Min(SnsMaxMessageBytes, maxMessageBytes ?? SnsMaxMessageBytes);
        var encoded = await OutboundEncoder.EncodeAsync(message, limit, payloads, cancellationToken).ConfigureAwait(false);
        var request = new SnsPublishRequest(address, encoded.Body)
        {
            MessageAttributes = encoded.Attributes.ToDictionary(a => a.Name, a => new SnsAttributeValue(a.DataType, a.Value), StringComparer.Ordinal),
        };
        if (PreservesOrder(address))
        {
            request = request with
            {
                MessageGroupId = string.IsNullOrEmpty(message.OrderingKey) ? "asyncmcp" : message.OrderingKey,
                MessageDeduplicationId = message.DeduplicationId,
            };
        }

        try
        {
            await SnsPublishBatcher.For(sns).PublishAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (SnsRequestException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SnsRequestException("Publish", null, $"publishing to {address} failed: {ex.Message}", null, isTransient: ex is HttpRequestException or IOException or TimeoutException, ex);
        }
    }

    /// <summary>FIFO topics (names ending in <c>.fifo</c>) keep order within a message group.</summary>
    public bool PreservesOrder(string address) => address.EndsWith(".fifo", StringComparison.Ordinal);
}
