using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace AsyncMcp.Aws.Sns;

/// <summary>
/// Calls Amazon SNS's Query API (form POST, SigV4) for Publish, CreateTopic and Subscribe. Credentials and region
/// come from the standard AWS configuration chain (AWSSDK.Core) unless given.
/// </summary>
public sealed class SnsQueryClient : ISnsClient, IDisposable
{
    private const string ApiVersion = "2010-03-31";
    private static readonly XNamespace s_ns = "http://sns.amazonaws.com/doc/2010-03-31/";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _endpoint;
    private readonly string _region;
    private readonly AWSCredentials _credentials;
    private readonly TimeProvider _time;

    /// <summary>Creates the client.</summary>
    /// <param name="options">Endpoint, region and credentials; defaults from the AWS configuration.</param>
    /// <param name="httpClient">The HTTP client to use; one is created (and disposed) when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for signing.</param>
    public SnsQueryClient(SnsQueryClientOptions? options = null, HttpClient? httpClient = null, TimeProvider? timeProvider = null)
    {
        options ??= new SnsQueryClientOptions();
        _region = options.Region
            ?? Environment.GetEnvironmentVariable("AWS_REGION")
            ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
            ?? FallbackRegionFactory.GetRegionEndpoint()?.SystemName
            ?? "us-east-1";
        var serviceUrl = options.ServiceUrl
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_SNS")
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL")
            ?? $"https://sns.{_region}.amazonaws.com/";
        if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out var endpoint))
        {
            throw new ArgumentException($"{nameof(SnsQueryClientOptions)}.{nameof(SnsQueryClientOptions.ServiceUrl)} '{serviceUrl}' is not an absolute URL.");
        }

        _endpoint = endpoint;
        _credentials = options.Credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials();
        _time = timeProvider ?? TimeProvider.System;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = options.Timeout };
    }

    /// <inheritdoc />
    public async Task<string> PublishAsync(SnsPublishRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("TopicArn", request.TopicArn),
            new("Message", request.Message),
        };
        AddMessageFields(parameters, string.Empty, request);
        var result = await CallAsync("Publish", parameters, cancellationToken).ConfigureAwait(false);
        return result.Descendants(s_ns + "MessageId").FirstOrDefault()?.Value ?? string.Empty;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SnsRequestException?>> PublishBatchAsync(string topicArn, IReadOnlyList<SnsPublishRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var parameters = new List<KeyValuePair<string, string>> { new("TopicArn", topicArn) };
        for (var i = 0; i < requests.Count; i++)
        {
            var entry = $"PublishBatchRequestEntries.member.{(i + 1).ToString(CultureInfo.InvariantCulture)}";
            parameters.Add(new($"{entry}.Id", i.ToString(CultureInfo.InvariantCulture)));
            parameters.Add(new($"{entry}.Message", requests[i].Message));
            AddMessageFields(parameters, $"{entry}.", requests[i]);
        }

        var result = await CallAsync("PublishBatch", parameters, cancellationToken).ConfigureAwait(false);
        var outcomes = new SnsRequestException?[requests.Count];
        var named = new bool[requests.Count];
        foreach (var member in result.Descendants(s_ns + "Successful").Elements(s_ns + "member"))
        {
            if (Index(member, requests.Count) is { } index)
            {
                named[index] = true;
            }
        }

        foreach (var member in result.Descendants(s_ns + "Failed").Elements(s_ns + "member"))
        {
            if (Index(member, requests.Count) is { } index)
            {
                named[index] = true;
                var senderFault = string.Equals(member.Element(s_ns + "SenderFault")?.Value, "true", StringComparison.OrdinalIgnoreCase);
                outcomes[index] = new SnsRequestException(
                    "Publish",
                    member.Element(s_ns + "Code")?.Value,
                    member.Element(s_ns + "Message")?.Value ?? "the batch entry failed",
                    senderFault ? HttpStatusCode.BadRequest : HttpStatusCode.InternalServerError,
                    isTransient: !senderFault);
            }
        }

        for (var i = 0; i < requests.Count; i++)
        {
            // An answer that names an entry neither way is SNS's fault: worth trying again.
            outcomes[i] ??= named[i] ? null : new SnsRequestException("Publish", null, "the PublishBatch answer did not name this entry", null, isTransient: true);
        }

        return outcomes;

        static int? Index(XElement member, int count) =>
            int.TryParse(member.Element(s_ns + "Id")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < count ? index : null;
    }

    /// <inheritdoc />
    public async Task<string> CreateTopicAsync(string name, IReadOnlyDictionary<string, string>? attributes = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<KeyValuePair<string, string>> { new("Name", name) };
        AddEntries(parameters, "Attributes", attributes);
        var result = await CallAsync("CreateTopic", parameters, cancellationToken).ConfigureAwait(false);
        return result.Descendants(s_ns + "TopicArn").FirstOrDefault()?.Value
            ?? throw new SnsRequestException("CreateTopic", null, "the answer had no TopicArn", null, isTransient: false);
    }

    /// <inheritdoc />
    public async Task<string> SubscribeAsync(string topicArn, string protocol, string endpoint, IReadOnlyDictionary<string, string>? attributes = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("TopicArn", topicArn),
            new("Protocol", protocol),
            new("Endpoint", endpoint),
            new("ReturnSubscriptionArn", "true"),
        };
        AddEntries(parameters, "Attributes", attributes);
        var result = await CallAsync("Subscribe", parameters, cancellationToken).ConfigureAwait(false);
        return result.Descendants(s_ns + "SubscriptionArn").FirstOrDefault()?.Value ?? string.Empty;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>The attributes, group and deduplication id of one message, under <paramref name="prefix"/> (empty for Publish).</summary>
    private static void AddMessageFields(List<KeyValuePair<string, string>> parameters, string prefix, SnsPublishRequest request)
    {
        var index = 1;
        foreach (var attribute in request.MessageAttributes)
        {
            var entry = $"{prefix}MessageAttributes.entry.{index.ToString(CultureInfo.InvariantCulture)}";
            parameters.Add(new($"{entry}.Name", attribute.Key));
            parameters.Add(new($"{entry}.Value.DataType", attribute.Value.DataType));
            parameters.Add(new($"{entry}.Value.StringValue", attribute.Value.Value));
            index++;
        }

        if (request.MessageGroupId is { } group)
        {
            parameters.Add(new($"{prefix}MessageGroupId", group));
        }

        if (request.MessageDeduplicationId is { } deduplication)
        {
            parameters.Add(new($"{prefix}MessageDeduplicationId", deduplication));
        }
    }

    private static void AddEntries(List<KeyValuePair<string, string>> parameters, string name, IReadOnlyDictionary<string, string>? entries)
    {
        var index = 1;
        foreach (var entry in entries ?? new Dictionary<string, string>())
        {
            parameters.Add(new($"{name}.entry.{index.ToString(CultureInfo.InvariantCulture)}.key", entry.Key));
            parameters.Add(new($"{name}.entry.{index.ToString(CultureInfo.InvariantCulture)}.value", entry.Value));
            index++;
        }
    }

    private async Task<XDocument> CallAsync(string action, List<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        parameters.Insert(0, new("Action", action));
        parameters.Insert(1, new("Version", ApiVersion));
        var body = Encoding.UTF8.GetBytes(string.Join('&', parameters.Select(p => $"{SigV4Signer.Encode(p.Key)}={SigV4Signer.Encode(p.Value)}")));
        const string contentType = "application/x-www-form-urlencoded; charset=utf-8";

        HttpResponseMessage response;
        try
        {
            var credentials = await _credentials.GetCredentialsAsync().ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var headers = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["host"] = _endpoint.IsDefaultPort ? _endpoint.Host : $"{_endpoint.Host}:{_endpoint.Port.ToString(CultureInfo.InvariantCulture)}",
                ["content-type"] = contentType,
                ["x-amz-date"] = SigV4Signer.AmzDate(now),
            };
            if (credentials.UseToken)
            {
                headers["x-amz-security-token"] = credentials.Token;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            request.Headers.TryAddWithoutValidation("X-Amz-Date", headers["x-amz-date"]);
            if (credentials.UseToken)
            {
                request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.Token);
            }

            request.Headers.TryAddWithoutValidation(
                "Authorization",
                SigV4Signer.Authorization("POST", _endpoint, headers, body, _region, "sns", credentials.AccessKey, credentials.SecretKey, now));
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SnsRequestException(action, null, ex.Message, null, isTransient: true, ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            XDocument? document = null;
            try
            {
                document = XDocument.Parse(text);
            }
            catch (System.Xml.XmlException)
            {
                // Reported below with the status code.
            }

            if (response.IsSuccessStatusCode && document is not null)
            {
                return document;
            }

            var error = document?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value;
            var message = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? $"HTTP {(int)response.StatusCode}";
            var transient = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests || code is "Throttling" or "ThrottledException" or "InternalError" or "ServiceUnavailable";
            throw new SnsRequestException(action, code, message, response.StatusCode, transient);
        }
    }
}
