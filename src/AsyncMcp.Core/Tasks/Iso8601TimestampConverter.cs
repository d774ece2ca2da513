using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AsyncMcp.Tasks;

/// <summary>
/// Reads an ISO 8601 timestamp and writes it in UTC with a <c>Z</c> and no trailing zero fractions
/// (<c>2025-11-25T10:30:00Z</c>), the form the extension's examples use.
/// </summary>
internal sealed class Iso8601TimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var value))
        {
            throw new JsonException("A task timestamp must be an ISO 8601 date and time string, such as \"2025-11-25T10:30:00Z\".");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
}
