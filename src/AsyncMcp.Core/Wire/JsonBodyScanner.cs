using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Wire;

/// <summary>
/// Reads a whole JSON body once, before anything is built from it, and finds what System.Text.Json accepts while
/// parsing but refuses only later, when a value is first read: a string with an unpaired UTF-16 surrogate escape
/// (<c>"\ud800"</c>) and nesting deeper than the serializer's limit. Along the way it picks out what an error for the
/// body needs even when the body is refused: the id, the members that tell the message's kind, and the string members
/// of <c>params</c> and <c>params._meta</c>, where reply addresses travel.
/// </summary>
/// <remarks>
/// A member named twice in the root object, in <c>params</c> or in <c>params._meta</c> is found here (it makes the id or
/// the reply address ambiguous); deeper ones are found when the body is parsed with duplicates disallowed.
/// </remarks>
internal static class JsonBodyScanner
{
    /// <summary>The deepest nesting accepted: the default of System.Text.Json, which the MCP SDK keeps.</summary>
    public const int MaxDepth = 64;

    private const string UnpairedSurrogate = "a string in it holds an unpaired UTF-16 surrogate escape (such as \\ud800), which is not text";

    // The scan itself must reach past MaxDepth, so that a body nested too deep still yields its id and reply address.
    private static readonly JsonReaderOptions s_readerOptions = new() { MaxDepth = int.MaxValue };

    /// <summary>Scans a body that is valid UTF-8.</summary>
    /// <param name="utf8">The body.</param>
    /// <returns>What the scan found.</returns>
    public static JsonBodyFacts Scan(ReadOnlySpan<byte> utf8)
    {
        var facts = new JsonBodyFacts();
        var reader = new Utf8JsonReader(utf8, s_readerOptions);
        var root = new MemberNames();
        var parameters = new MemberNames();
        var meta = new MemberNames();
        string? rootMember = null;
        string? paramsMember = null;
        string? metaMember = null;
        var inParams = false;
        var inMeta = false;
        try
        {
            while (reader.Read())
            {
                var depth = reader.CurrentDepth;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (depth == 1)
                        {
                            rootMember = root.Add(ReadText(ref reader, facts), facts);
                        }
                        else if (depth == 2 && inParams)
                        {
                            paramsMember = parameters.Add(ReadText(ref reader, facts), facts);
                        }
                        else if (depth == 3 && inMeta)
                        {
                            metaMember = meta.Add(ReadText(ref reader, facts), facts);
                        }
                        else
                        {
                            CheckText(ref reader, facts);
                        }

                        continue;

                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (depth == 0)
                        {
                            facts.RootKind = reader.TokenType;
                        }

                        if (depth + 1 > MaxDepth)
                        {
                            facts.Problem ??= $"it is nested more than {MaxDepth} levels deep";
                        }

                        break;

                    case JsonTokenType.EndObject:
                        if (depth == 1)
                        {
                            inParams = false;
                        }
                        else if (depth == 2)
                        {
                            inMeta = false;
                        }

                        continue;

                    case JsonTokenType.EndArray:
                        continue;

                    default:
                        if (depth == 0)
                        {
                            facts.RootKind = reader.TokenType;
                        }

                        break;
                }

                // A value: of a root member, of a member of params, or of a member of params._meta.
                if (depth == 1 && rootMember is not null && facts.RootKind == JsonTokenType.StartObject)
                {
                    // A member named twice never gets here (its name was not returned): only the first params is read.
                    ReadRootMember(ref reader, rootMember, facts, ref inParams);
                    rootMember = null;
                }
                else if (depth == 2 && inParams && paramsMember is not null)
                {
                    if (paramsMember == "_meta" && reader.TokenType == JsonTokenType.StartObject)
                    {
                        inMeta = true;
                    }
                    else if (reader.TokenType == JsonTokenType.String && ReadText(ref reader, facts) is { } value)
                    {
                        facts.Parameters ??= [];
                        facts.Parameters[paramsMember] = value;
                    }

                    paramsMember = null;
                }
                else if (depth == 3 && inMeta && metaMember is not null)
                {
                    if (reader.TokenType == JsonTokenType.String && ReadText(ref reader, facts) is { } value)
                    {
                        facts.Parameters ??= [];
                        if (facts.Parameters["_meta"] is not JsonObject metaObject)
                        {
                            metaObject = [];
                            facts.Parameters["_meta"] = metaObject;
                        }

                        metaObject[metaMember] = value;
                    }

                    metaMember = null;
                }
                else if (reader.TokenType == JsonTokenType.String)
                {
                    CheckText(ref reader, facts);
                }
            }
        }
        catch (JsonException ex)
        {
            facts.SyntaxError = ex.Message;
            return facts;
        }

        // A member named twice in params or _meta: the reply address it might be is ambiguous, so it is not used.
        foreach (var twice in parameters.Repeated)
        {
            facts.Parameters?.Remove(twice);
        }

        if (meta.Repeated.Count > 0 && facts.Parameters?["_meta"] is JsonObject ambiguousMeta)
        {
            foreach (var twice in meta.Repeated)
            {
                ambiguousMeta.Remove(twice);
            }
        }

        if (root.Repeated.Contains("params") || parameters.Repeated.Contains("_meta"))
        {
            facts.Parameters = null;
        }

        if (root.Repeated.Contains("id"))
        {
            facts.IdState = IdState.Unusable;
            facts.IdKind = "named twice";
            facts.Id = default;
        }

        return facts;
    }

    private static void ReadRootMember(ref Utf8JsonReader reader, string member, JsonBodyFacts facts, ref bool inParams)
    {
        switch (member)
        {
            case "id":
                ReadId(ref reader, facts);
                break;
            case "jsonrpc":
                facts.JsonRpc = reader.TokenType == JsonTokenType.String ? ReadText(ref reader, facts) : null;
                break;
            case "method":
                facts.HasMethod = true;
                facts.MethodKind = reader.TokenType;
                if (reader.TokenType == JsonTokenType.String)
                {
                    CheckText(ref reader, facts);
                }

                break;
            case "result":
                facts.HasResult = true;
                goto default;
            case "error":
                facts.HasError = true;
                goto default;
            case "params":
                inParams = reader.TokenType == JsonTokenType.StartObject;
                goto default;
            default:
                if (reader.TokenType == JsonTokenType.String)
                {
                    CheckText(ref reader, facts);
                }

                break;
        }
    }

    private static void ReadId(ref Utf8JsonReader reader, JsonBodyFacts facts)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String when ReadText(ref reader, facts) is { } text:
                facts.IdState = IdState.Usable;
                facts.Id = new RequestId(text);
                break;
            case JsonTokenType.String:
                facts.IdState = IdState.Unusable;
                facts.IdKind = "a string that cannot be read";
                break;
            case JsonTokenType.Number when reader.TryGetInt64(out var number):
                facts.IdState = IdState.Usable;
                facts.Id = new RequestId(number);
                break;
            case JsonTokenType.Null:
                facts.IdState = IdState.Null;
                break;
            default:
                facts.IdState = IdState.Unusable;
                facts.IdKind = reader.TokenType switch
                {
                    JsonTokenType.Number => "a number that is not a whole number from -2^63 to 2^63-1",
                    JsonTokenType.StartObject => "an object",
                    JsonTokenType.StartArray => "an array",
                    _ => "a boolean",
                };
                break;
        }
    }

    /// <summary>Reads a string or property name; <see langword="null"/> (and a recorded problem) when it holds an unpaired surrogate.</summary>
    private static string? ReadText(ref Utf8JsonReader reader, JsonBodyFacts facts)
    {
        if (!reader.ValueIsEscaped)
        {
            // Valid UTF-8 (checked before the scan) without escapes is always readable.
            return reader.GetString();
        }

        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            facts.Problem ??= UnpairedSurrogate;
            return null;
        }
    }

    /// <summary>Checks that a string or property name nobody needs yet is readable, without keeping it.</summary>
    private static void CheckText(ref Utf8JsonReader reader, JsonBodyFacts facts)
    {
        if (!reader.ValueIsEscaped || facts.Problem is not null)
        {
            return;
        }

        // Unescaped text is never longer than its escaped form.
        var buffer = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            reader.CopyString(buffer);
        }
        catch (InvalidOperationException)
        {
            facts.Problem = UnpairedSurrogate;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>The member names of one object, to find a name given twice.</summary>
    private sealed class MemberNames
    {
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        public HashSet<string> Repeated { get; } = new(StringComparer.Ordinal);

        /// <summary>Adds a name; returns it, or <see langword="null"/> (and a recorded problem) when it is unreadable or given twice.</summary>
        public string? Add(string? name, JsonBodyFacts facts)
        {
            if (name is null)
            {
                return null;
            }

            if (!_names.Add(name))
            {
                Repeated.Add(name);
                facts.Problem ??= $"the member \"{Shorten(name)}\" appears more than once in one object";
                return null;
            }

            return name;
        }

        private static string Shorten(string name) => name.Length <= 64 ? name : string.Concat(name.AsSpan(0, 64), "…");
    }
}

/// <summary>What the id member of a body was.</summary>
internal enum IdState
{
    /// <summary>There is no <c>id</c>.</summary>
    Absent,

    /// <summary>A string or a 64-bit integer.</summary>
    Usable,

    /// <summary>JSON <c>null</c>.</summary>
    Null,

    /// <summary>Anything else: an object, an array, a fraction, a boolean, a number out of range, or named twice.</summary>
    Unusable,
}

/// <summary>What <see cref="JsonBodyScanner.Scan"/> found in a body.</summary>
internal sealed class JsonBodyFacts
{
    /// <summary>Why the body is not JSON at all, or <see langword="null"/>.</summary>
    public string? SyntaxError { get; set; }

    /// <summary>The first token of the body: <see cref="JsonTokenType.StartObject"/> for a message.</summary>
    public JsonTokenType RootKind { get; set; }

    /// <summary>Why the body, though JSON, cannot be read as a whole, or <see langword="null"/>.</summary>
    public string? Problem { get; set; }

    /// <summary>What the id member was.</summary>
    public IdState IdState { get; set; }

    /// <summary>The id, when <see cref="IdState"/> is <see cref="IdState.Usable"/>.</summary>
    public RequestId Id { get; set; }

    /// <summary>What an unusable id was, for the error message.</summary>
    public string? IdKind { get; set; }

    /// <summary>The value of <c>jsonrpc</c> when it is a readable string.</summary>
    public string? JsonRpc { get; set; }

    /// <summary>Whether there is a <c>method</c> member.</summary>
    public bool HasMethod { get; set; }

    /// <summary>The kind of the <c>method</c> value.</summary>
    public JsonTokenType MethodKind { get; set; }

    /// <summary>Whether there is a <c>result</c> member.</summary>
    public bool HasResult { get; set; }

    /// <summary>Whether there is an <c>error</c> member.</summary>
    public bool HasError { get; set; }

    /// <summary>
    /// The readable string members of <c>params</c> and of <c>params._meta</c> (as a nested <c>_meta</c> object), each
    /// named once; <see langword="null"/> when there are none.
    /// </summary>
    public JsonObject? Parameters { get; set; }
}
