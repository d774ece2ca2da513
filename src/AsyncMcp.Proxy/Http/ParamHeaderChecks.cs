using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Http;

/// <summary>
/// The <c>Mcp-Param-*</c> headers of revision 2026-07-28 (a tool parameter marked <c>x-mcp-header</c> in its input
/// schema is repeated in a header, so that HTTP infrastructure can route on it): checked against the body, as the SDK's
/// endpoint checks them. The headers do not travel over the async transport, so the proxy checks them itself, against
/// the input schemas of the tools as they were last listed through it; a tool it has not seen listed is not checked.
/// </summary>
internal sealed class ParamHeaderChecks
{
    private const string ParamHeaderPrefix = "Mcp-Param-";
    private const string HeaderKeyword = "x-mcp-header";
    private const long MaxSafeInteger = 9_007_199_254_740_991;

    // Tool name → the "properties" of its input schema, for tools with at least one x-mcp-header parameter.
    private readonly ConcurrentDictionary<string, JsonElement> _schemas = new(StringComparer.Ordinal);

    /// <summary>Learns the tools of a <c>tools/list</c> result that passed through.</summary>
    public void Learn(JsonNode? result)
    {
        if (result is not JsonObject resultObject || resultObject["tools"] is not JsonArray tools)
        {
            return;
        }

        foreach (var tool in tools.OfType<JsonObject>())
        {
            if (tool["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
            {
                continue;
            }

            JsonElement properties = default;
            if (tool["inputSchema"] is JsonObject schema && schema["properties"] is JsonObject props)
            {
                using var document = JsonDocument.Parse(props.ToJsonString());
                properties = document.RootElement.Clone();
            }

            if (properties.ValueKind == JsonValueKind.Object && HasHeaderParameter(properties))
            {
                _schemas[name] = properties;
            }
            else
            {
                _schemas.TryRemove(name, out _);
            }
        }
    }

    /// <summary>Checks the <c>Mcp-Param-*</c> headers of a <c>tools/call</c>.</summary>
    /// <returns>Why they are refused (a <c>-32020</c> message), or <see langword="null"/>.</returns>
    public string? Check(HttpRequest request, JsonRpcMessage message)
    {
        if (message is not JsonRpcRequest { Method: RequestMethods.ToolsCall, Params: JsonObject parameters } ||
            parameters["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name) ||
            !_schemas.TryGetValue(name, out var properties))
        {
            return null;
        }

        return CheckProperties(request, properties, parameters["arguments"]);
    }

    private static string? CheckProperties(HttpRequest request, JsonElement properties, JsonNode? arguments)
    {
        foreach (var property in properties.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var argument = arguments is JsonObject args && args.TryGetPropertyValue(property.Name, out var value) ? value : null;
            if (property.Value.TryGetProperty("properties", out var nested) && nested.ValueKind == JsonValueKind.Object &&
                CheckProperties(request, nested, argument) is { } nestedError)
            {
                return nestedError;
            }

            if (!property.Value.TryGetProperty(HeaderKeyword, out var headerName) || headerName.ValueKind != JsonValueKind.String || headerName.GetString() is not { Length: > 0 } suffix)
            {
                continue;
            }

            if (CheckOne(request, ParamHeaderPrefix + suffix, property.Name, property.Value, argument) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static string? CheckOne(HttpRequest request, string header, string parameter, JsonElement schema, JsonNode? argument)
    {
        var present = argument is not null && argument.GetValueKind() != JsonValueKind.Null;
        if (!request.Headers.TryGetValue(header, out var raw))
        {
            return present ? $"Missing required {header} header for parameter '{parameter}' annotated with {HeaderKeyword}." : null;
        }

        var text = raw.ToString().Trim();
        if (!text.All(c => c == '\t' || c is >= ' ' and <= '~'))
        {
            return $"Header mismatch: {header} header contains invalid characters.";
        }

        var decoded = McpHeaderEncoder.DecodeValue(text);
        if (decoded is null)
        {
            return $"Header mismatch: {header} header contains invalid Base64 encoding.";
        }

        if (!present || McpHeaderEncoder.ConvertToHeaderValue(argument!) is not { } bodyHeader)
        {
            return null;
        }

        var expected = McpHeaderEncoder.DecodeValue(bodyHeader);
        return Compare(decoded, expected, IsInteger(schema)) switch
        {
            Outcome.OutOfRange => $"Header mismatch: {header} integer value for parameter '{parameter}' is outside the JavaScript safe integer range (-{MaxSafeInteger} to {MaxSafeInteger}).",
            Outcome.Mismatch => $"Header mismatch: {header} header value does not match body argument '{parameter}'.",
            _ => null,
        };
    }

    /// <summary>Integer parameters compare as numbers (<c>42</c> and <c>42.0</c> agree) within the JavaScript safe range; others as text.</summary>
    private static Outcome Compare(string actual, string? expected, bool integer)
    {
        if (integer && expected is not null)
        {
            var a = ParseInteger(actual, out var left);
            var b = ParseInteger(expected, out var right);
            if (a == Number.OutOfRange || b == Number.OutOfRange)
            {
                return Outcome.OutOfRange;
            }

            if (a == Number.Whole && b == Number.Whole)
            {
                return left == right ? Outcome.Match : Outcome.Mismatch;
            }

            if (a == Number.Fraction || b == Number.Fraction)
            {
                return Outcome.Mismatch;
            }
        }

        return string.Equals(actual, expected, StringComparison.Ordinal) ? Outcome.Match : Outcome.Mismatch;
    }

    private static Number ParseInteger(string text, out long value)
    {
        const NumberStyles styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        if (long.TryParse(text, styles, CultureInfo.InvariantCulture, out value))
        {
            return value is < -MaxSafeInteger or > MaxSafeInteger ? Number.OutOfRange : Number.Whole;
        }

        if (double.TryParse(text, styles, CultureInfo.InvariantCulture, out var real))
        {
            return Math.Abs(real) > MaxSafeInteger ? Number.OutOfRange : Number.Fraction;
        }

        return Number.NotNumeric;
    }

    private static bool IsInteger(JsonElement schema) =>
        schema.TryGetProperty("type", out var type) &&
        (type.ValueKind == JsonValueKind.String ? type.ValueEquals("integer") :
         type.ValueKind == JsonValueKind.Array && type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.ValueEquals("integer")));

    private static bool HasHeaderParameter(JsonElement properties) =>
        properties.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object &&
            (p.Value.TryGetProperty(HeaderKeyword, out _) ||
             (p.Value.TryGetProperty("properties", out var nested) && nested.ValueKind == JsonValueKind.Object && HasHeaderParameter(nested))));

    private enum Outcome
    {
        Match,
        Mismatch,
        OutOfRange,
    }

    private enum Number
    {
        Whole,
        Fraction,
        OutOfRange,
        NotNumeric,
    }
}
