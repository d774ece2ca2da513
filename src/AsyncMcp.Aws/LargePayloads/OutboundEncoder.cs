using System.Globalization;
using System.Text;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;

namespace AsyncMcp.Aws.LargePayloads;

/// <summary>
/// Turns an outbound message into what SQS and SNS accept: typed attributes (<c>Timestamp</c> is a Number), and a
/// size within the destination's limit, offloading the body to S3 when that is configured and needed.
/// </summary>
internal static class OutboundEncoder
{
    public const string StringType = "String";
    public const string NumberType = "Number";

    public static async Task<EncodedMessage> EncodeAsync(OutboundMessage message, int limit, S3PayloadStore? payloads, CancellationToken cancellationToken)
    {
        var attributes = new List<EncodedAttribute>(message.Attributes.Count + 1);
        var attributeBytes = 0;
        foreach (var attribute in message.Attributes)
        {
            var type = attribute.Key == WireAttributes.Timestamp ? NumberType : StringType;
            attributes.Add(new EncodedAttribute(attribute.Key, type, attribute.Value));
            attributeBytes += Encoding.UTF8.GetByteCount(attribute.Key) + type.Length + Encoding.UTF8.GetByteCount(attribute.Value);
        }

        var body = message.Body;
        var bodyBytes = Encoding.UTF8.GetByteCount(body);
        var offloadAbove = Math.Min(limit, payloads?.ThresholdBytes ?? int.MaxValue);
        if (payloads is not null && bodyBytes + attributeBytes > offloadAbove)
        {
            // Claim check: the payload goes to S3, a pointer goes to the broker.
            body = await payloads.StoreAsync(body, cancellationToken).ConfigureAwait(false);
            var size = bodyBytes.ToString(CultureInfo.InvariantCulture);
            attributes.Add(new EncodedAttribute(S3PayloadStore.SizeAttribute, NumberType, size));
            attributeBytes += S3PayloadStore.SizeAttribute.Length + NumberType.Length + size.Length;
            bodyBytes = Encoding.UTF8.GetByteCount(body);
        }

        return bodyBytes + attributeBytes > limit
            ? throw new MessageTooLargeException(bodyBytes + attributeBytes, limit)
            : new EncodedMessage(body, attributes);
    }
}

internal sealed record EncodedMessage(string Body, IReadOnlyList<EncodedAttribute> Attributes);

internal readonly record struct EncodedAttribute(string Name, string DataType, string Value);
