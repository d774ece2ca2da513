using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>
/// Where, inside a JSON-RPC request, a transport's reply address travels: a key of <c>params._meta</c>
/// (asyncmcp <c>main</c>) and an older top-level parameter of <c>initialize</c> (asyncmcp 0.2.1). Servers read
/// either; clients write both into <c>initialize</c>, so that servers of either release can answer it.
/// </summary>
/// <param name="MetaKey">The key under <c>params._meta</c>, for example <c>responseQueueUrl</c>.</param>
/// <param name="LegacyParameterName">The older key directly under <c>params</c>, or <see langword="null"/>.</param>
internal sealed record ReplyAddressConvention(string MetaKey, string? LegacyParameterName)
{
    /// <summary>SQS: <c>_meta.responseQueueUrl</c>, formerly <c>params.response_queue_url</c>; an http(s) queue URL.</summary>
    public static ReplyAddressConvention SqsResponseQueue { get; } = new("responseQueueUrl", "response_queue_url") { Validator = IsHttpUrl, Expected = "an SQS queue URL" };

    /// <summary>SNS+SQS: <c>_meta.clientTopicArn</c>, formerly <c>params.client_topic_arn</c>; an SNS topic ARN.</summary>
    public static ReplyAddressConvention SnsClientTopic { get; } = new("clientTopicArn", "client_topic_arn") { Validator = IsSnsTopicArn, Expected = "an SNS topic ARN" };

    /// <summary>Webhooks: <c>_meta.webhookUrl</c>; an http(s) URL.</summary>
    public static ReplyAddressConvention Webhook { get; } = new("webhookUrl", null) { Validator = IsHttpUrl, Expected = "an http(s) URL" };

    /// <summary>Tells a well-formed address from a malformed one; <see langword="null"/> accepts any non-empty address.</summary>
    public Func<string, bool>? Validator { get; init; }

    /// <summary>What a well-formed address looks like, for error messages.</summary>
    public string Expected { get; init; } = "an address";

    /// <summary>Whether an address is well formed for this transport.</summary>
    /// <param name="address">The address.</param>
    /// <returns><see langword="true"/> if it may be sent to.</returns>
    public bool IsWellFormed(string address) => Validator?.Invoke(address) ?? !string.IsNullOrWhiteSpace(address);

    private static bool IsHttpUrl(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static bool IsSnsTopicArn(string address) =>
        address.StartsWith("arn:", StringComparison.Ordinal) && address.Split(':') is { Length: 6 } parts && parts[2] == "sns" && parts[5].Length > 0;

    /// <summary>Reads the reply address from a request, preferring the <c>_meta</c> form.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The address, or <see langword="null"/> when the request names none.</returns>
    public string? Read(JsonRpcRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ReadFrom(request.Params);
    }

    /// <summary>Reads the reply address a body names that could not be decoded as a message, where it is readable.</summary>
    /// <param name="decoded">The outcome of decoding the body.</param>
    /// <returns>The address, or <see langword="null"/> when none can be read.</returns>
    internal string? Read(DecodeResult decoded) => ReadFrom(decoded.Parameters);

    private string? ReadFrom(JsonNode? parameterNode)
    {
        if (parameterNode is not JsonObject parameters)
        {
            return null;
        }

        if (parameters["_meta"] is JsonObject meta && TryGetString(meta, MetaKey, out var address))
        {
            return address;
        }

        return LegacyParameterName is not null && TryGetString(parameters, LegacyParameterName, out var legacy) ? legacy : null;
    }

    /// <summary>
    /// Writes the reply address into <c>params._meta</c>, creating <c>params</c> and <c>_meta</c> as needed; into an
    /// <c>initialize</c> also as the older top-level parameter, when the transport has one (asyncmcp 0.2.1 reads only
    /// that one, asyncmcp <c>main</c> only the <c>_meta</c> key).
    /// </summary>
    /// <param name="request">The request to change.</param>
    /// <param name="address">The reply address.</param>
    public void Write(JsonRpcRequest request, string address)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (request.Params is not JsonObject parameters)
        {
            parameters = [];
            request.Params = parameters;
        }

        if (parameters["_meta"] is not JsonObject meta)
        {
            meta = [];
            parameters["_meta"] = meta;
        }

        meta[MetaKey] = address;
        if (LegacyParameterName is not null && request.Method == RequestMethods.Initialize)
        {
            parameters[LegacyParameterName] = address;
        }
    }

    private static bool TryGetString(JsonObject node, string key, out string value)
    {
        if (node.TryGetPropertyValue(key, out var property) &&
            property is JsonValue jsonValue &&
            jsonValue.TryGetValue<string>(out var text) &&
            !string.IsNullOrWhiteSpace(text))
        {
            value = text;
            return true;
        }

        value = string.Empty;
        return false;
    }
}
