using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using AsyncMcp.Messaging;

namespace AsyncMcp.Aws.LargePayloads;

/// <summary>
/// Stores and fetches offloaded payloads, in the format of the Amazon SQS Extended Client libraries: the message
/// body becomes <c>["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":..,"s3Key":..}]</c> and the
/// attribute <c>ExtendedPayloadSize</c> carries the original size.
/// </summary>
internal sealed class S3PayloadStore(IAmazonS3 s3, SqsLargePayloadOptions options)
{
    public const string SizeAttribute = "ExtendedPayloadSize";
    public const string LegacySizeAttribute = "SQSLargePayloadSize";
    private const string PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer";

    public int? ThresholdBytes => options.ThresholdBytes;

    /// <summary>Stores the payload and returns the pointer body to send instead.</summary>
    public async Task<string> StoreAsync(string payload, CancellationToken cancellationToken)
    {
        var key = options.KeyPrefix + Guid.NewGuid().ToString("N");
        try
        {
            await s3.PutObjectAsync(
                new PutObjectRequest { BucketName = options.BucketName, Key = key, ContentBody = payload, ContentType = "application/json" },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception or HttpRequestException or IOException)
        {
            throw new AsyncMcpTransportException(
                $"Storing a large payload in S3 bucket '{options.BucketName}' failed: {ex.Message}",
                ex is not AmazonS3Exception s3Error || (int)s3Error.StatusCode >= 500,
                ex);
        }

        return JsonSerializer.Serialize(new object[] { PointerClass, new Dictionary<string, string> { ["s3BucketName"] = options.BucketName, ["s3Key"] = key } });
    }

    /// <summary>Reads a pointer body; returns false if the body is not one.</summary>
    public static bool TryParsePointer(string body, out string bucket, out string key)
    {
        bucket = key = string.Empty;
        if (body.Length == 0 || body[0] != '[' || !body.Contains(PointerClass, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() == 2 &&
                root[0].ValueKind == JsonValueKind.String && root[0].GetString() == PointerClass &&
                root[1].ValueKind == JsonValueKind.Object &&
                root[1].TryGetProperty("s3BucketName", out var b) && b.ValueKind == JsonValueKind.String &&
                root[1].TryGetProperty("s3Key", out var k) && k.ValueKind == JsonValueKind.String)
            {
                bucket = b.GetString() ?? string.Empty;
                key = k.GetString() ?? string.Empty;
                return bucket.Length > 0 && key.Length > 0;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not a pointer this can read (a string in it that is not text): the body is handed on as it came.
        }

        return false;
    }

    public async Task<string> FetchAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        using var response = await s3.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(response.ResponseStream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken) =>
        s3.DeleteObjectAsync(bucket, key, cancellationToken);
}
