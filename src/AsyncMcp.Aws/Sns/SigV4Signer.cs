using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AsyncMcp.Aws.Sns;

/// <summary>
/// AWS Signature Version 4 for one HTTP request: canonical request, string to sign, derived key, Authorization
/// header. Small on purpose; used only by <see cref="SnsQueryClient"/>, since the AWS SDK for SNS is not available.
/// </summary>
internal static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The <c>x-amz-date</c> value for a time.</summary>
    public static string AmzDate(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Computes the Authorization header value.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="uri">The full request URI, query included.</param>
    /// <param name="headers">The headers to sign, including <c>host</c> and <c>x-amz-date</c>; names in any case.</param>
    /// <param name="payload">The request body.</param>
    /// <param name="region">The signing region.</param>
    /// <param name="service">The signing service name, for example <c>sns</c>.</param>
    /// <param name="accessKey">The access key id.</param>
    /// <param name="secretKey">The secret access key.</param>
    /// <param name="time">The signing time; must match <c>x-amz-date</c>.</param>
    /// <returns>The header value.</returns>
    public static string Authorization(
        string method,
        Uri uri,
        IReadOnlyDictionary<string, string> headers,
        ReadOnlySpan<byte> payload,
        string region,
        string service,
        string accessKey,
        string secretKey,
        DateTimeOffset time)
    {
        var date = time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{service}/aws4_request";

        var sortedHeaders = headers
            .Select(h => (Name: h.Key.ToLowerInvariant(), Value: CollapseSpaces(h.Value.Trim())))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        var signedHeaders = string.Join(';', sortedHeaders.Select(h => h.Name));
        var canonicalHeaders = string.Concat(sortedHeaders.Select(h => $"{h.Name}:{h.Value}\n"));

        var canonicalRequest = string.Join('\n',
            method.ToUpperInvariant(),
            CanonicalPath(uri),
            CanonicalQuery(uri),
            canonicalHeaders,
            signedHeaders,
            Hex(SHA256.HashData(payload)));

        var stringToSign = string.Join('\n', Algorithm, AmzDate(time), scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));

        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        key = HMACSHA256.HashData(key, "aws4_request"u8);
        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

        return $"{Algorithm} Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>Percent-encodes as SigV4 requires: everything but unreserved characters, uppercase hex.</summary>
    public static string Encode(string value) => Uri.EscapeDataString(value);

    private static string CanonicalPath(Uri uri)
    {
        var path = uri.AbsolutePath;
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }

        return string.Join('/', path.Split('/').Select(segment => Encode(Uri.UnescapeDataString(segment))));
    }

    private static string CanonicalQuery(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return string.Empty;
        }

        return string.Join('&', query
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair =>
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
                var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
                return (Name: Encode(name), Value: Encode(value));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));
    }

    private static string CollapseSpaces(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        var previousSpace = false;
        foreach (var c in value)
        {
            if (c == ' ' && previousSpace)
            {
                continue;
            }

            builder.Append(c);
            previousSpace = c == ' ';
        }

        return builder.ToString();
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
