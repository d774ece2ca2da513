using System.CommandLine;
using System.Text.Json;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// A JSON config file (<c>--config</c>, <c>ASYNCMCP_CONFIG</c>): one object whose keys are the long flag names in
/// camelCase (<c>--request-queue</c> is <c>requestQueue</c>), checked and converted to the flags' types when loaded,
/// so a mistake is reported before anything connects.
/// </summary>
internal sealed class CliConfigFile
{
    private readonly Dictionary<string, object> _values;

    private CliConfigFile(string path, Dictionary<string, object> values)
    {
        Path = path;
        _values = values;
    }

    /// <summary>The file as given.</summary>
    public string Path { get; }

    /// <summary>The config key of a flag: <c>--request-queue</c> is <c>requestQueue</c>.</summary>
    public static string KeyOf(Option option)
    {
        var words = option.Name.TrimStart('-').Split('-', StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(words.Select((word, i) => i == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..]));
    }

    /// <summary>Reads and checks the file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">The flags of the command being run, by config key: their keys are read and type-checked.</param>
    /// <param name="otherKeys">The keys of the other commands' flags: accepted and ignored, so one file can serve several commands.</param>
    /// <exception cref="CliUsageException">The file cannot be read, is not a JSON object, or has an unknown key or a value of the wrong type; the message names the file and the key.</exception>
    public static CliConfigFile Load(string path, IReadOnlyDictionary<string, Option> options, IReadOnlySet<string> otherKeys)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"config file '{path}' cannot be read: {ex.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            // The parser's message ends with zero-based positions; say them as an editor would.
            var reason = ex.Message.Split(" LineNumber:", 2)[0].Trim();
            throw new CliUsageException($"config file '{path}' is not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: {reason}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CliUsageException($"config file '{path}' must hold one JSON object of settings, such as {{\"requestQueue\": \"mcp-requests\"}} (found {Describe(document.RootElement.ValueKind)}).");
            }

            var values = new Dictionary<string, object>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = property.Name;
                if (!seen.Add(key))
                {
                    throw new CliUsageException($"config file '{path}': key \"{key}\" appears more than once.");
                }

                if (options.TryGetValue(key, out var option))
                {
                    values[key] = Convert(path, key, option, property.Value);
                }
                else if (!otherKeys.Contains(key))
                {
                    if (key == CliConfigFile.KeyOf(CliSettings.Config))
                    {
                        throw new CliUsageException($"config file '{path}': key \"{key}\" is not allowed: a config file cannot name another one.");
                    }

                    var near = options.Keys.Concat(otherKeys).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase) || KeyOfFlagSpelling(key) == k);
                    var hint = near is null ? "keys are the long flag names in camelCase, such as \"requestQueue\" for --request-queue" : $"did you mean \"{near}\"?";
                    throw new CliUsageException($"config file '{path}': unknown key \"{key}\" ({hint}).");
                }
            }

            return new CliConfigFile(path, values);
        }
    }

    /// <summary>The value of a flag's key, already of the flag's type.</summary>
    public bool TryGet(string key, out object value) => _values.TryGetValue(key, out value!);

    private static object Convert(string path, string key, Option option, JsonElement value)
    {
        var type = option.ValueType;
        if (type == typeof(string))
        {
            return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(path, key, "a string", value);
        }

        if (type == typeof(bool))
        {
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(path, key, "true or false", value),
            };
        }

        if (type == typeof(int))
        {
            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : throw WrongType(path, key, "a whole number", value);
        }

        if (type == typeof(string[]))
        {
            // A repeatable flag: a list of strings, or one string for a single value.
            if (value.ValueKind == JsonValueKind.String)
            {
                return new[] { value.GetString()! };
            }

            if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            {
                return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
            }

            throw WrongType(path, key, "a string or a list of strings", value);
        }

        throw new CliUsageException($"config file '{path}': key \"{key}\" cannot be set in a config file.");
    }

    private static CliUsageException WrongType(string path, string key, string expected, JsonElement value) =>
        new($"config file '{path}': key \"{key}\" must be {expected} (found {Describe(value.ValueKind)}).");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    // "request-queue" or "request_queue" written as a key: the camelCase key it most likely means.
    private static string KeyOfFlagSpelling(string key)
    {
        var words = key.TrimStart('-').Split(['-', '_'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 0 ? key : string.Concat(words.Select((word, i) => i == 0 ? word.ToLowerInvariant() : char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant()));
    }
}
