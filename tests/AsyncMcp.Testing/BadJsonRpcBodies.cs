using System.Text.Json.Nodes;

namespace AsyncMcp.Testing;

/// <summary>
/// Bodies that are JSON (or nearly) but that a server must refuse, each with the id its error must carry: what the .NET
/// reader accepts while parsing and refuses only when a value is first read, and requests of the wrong JSON-RPC shape.
/// Each names a reply address the way the transport under test carries it, so that a server can answer it there.
/// </summary>
public static class BadJsonRpcBodies
{
    /// <summary>One bad body.</summary>
    /// <param name="Name">What is wrong, for test output.</param>
    /// <param name="Body">The body.</param>
    /// <param name="Id">The id its error must carry (<see langword="null"/>: JSON null, the id being unusable).</param>
    /// <param name="Expected">Words the error message must contain.</param>
    public sealed record BadBody(string Name, string Body, long? Id, string Expected);

    /// <summary>The cases, naming <paramref name="replyAddress"/> under <c>params._meta.<paramref name="metaKey"/></c>.</summary>
    /// <param name="metaKey">The reply address's key (<c>responseQueueUrl</c>, <c>clientTopicArn</c>, <c>webhookUrl</c>), or <see langword="null"/> for none.</param>
    /// <param name="replyAddress">The reply address.</param>
    /// <param name="firstId">The id of the first case; each case has its own.</param>
    /// <returns>The cases.</returns>
    public static IReadOnlyList<BadBody> All(string? metaKey, string? replyAddress, long firstId = 100)
    {
        var meta = metaKey is null ? string.Empty : $",\"_meta\":{{\"{metaKey}\":{JsonValue.Create(replyAddress)!.ToJsonString()}}}";
        var list = new List<BadBody>();
        var next = firstId;
        void Add(string name, Func<long, string> body, bool idReadable, string expected)
        {
            var id = next++;
            list.Add(new BadBody(name, body(id), idReadable ? id : null, expected));
        }

        string Call(long id, string arguments) =>
            $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{arguments}{meta}}}}}";

        Add("an unpaired surrogate escape in the arguments", id => Call(id, "{\"message\":\"\\ud800\"}"), true, "unpaired UTF-16 surrogate");
        Add("an unpaired surrogate escape in a member name", id => Call(id, "{\"message\\udc00\":\"x\"}"), true, "unpaired UTF-16 surrogate");
        Add("a member named twice in the arguments", id => Call(id, "{\"message\":\"a\",\"message\":\"b\"}"), true, "Duplicate property");
        Add("nesting deeper than 64 levels", id => Call(id, "{\"message\":\"x\",\"deep\":" + new string('[', 70) + new string(']', 70) + "}"), true, "nested more than 64 levels");
        Add("the id named twice", id => $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"id\":{id + 1000},\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "\"id\" appears more than once");
        Add("an unpaired surrogate escape in the id", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":\"r\\ud800\",\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "unpaired UTF-16 surrogate");
        Add("an object id", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":{{\"n\":1}},\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "(was an object)");
        Add("an array id", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "(was an array)");
        Add("a fractional id", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "not a whole number");
        Add("a boolean id", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "(was a boolean)");
        Add("an id out of range", _ => $"{{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", false, "not a whole number");
        Add("a method that is not a string", id => $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":7,\"params\":{{\"x\":1{meta}}}}}", true, "\"method\" must be a string");
        Add("no jsonrpc member", id => $"{{\"id\":{id},\"method\":\"tools/list\",\"params\":{{\"x\":1{meta}}}}}", true, "\"jsonrpc\" must be \"2.0\"");
        return list;
    }
}
