using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Benchmarks;

/// <summary>The round trip most rows measure: <c>echo</c> with "hello", its answer checked.</summary>
internal static class EchoCall
{
    private static readonly Dictionary<string, object?> s_arguments = new() { ["message"] = "hello" };

    /// <summary>Calls <c>echo</c> and fails if the answer is not "Echo: hello".</summary>
    public static async Task RunAsync(McpClient client)
    {
        var result = await client.CallToolAsync("echo", s_arguments);
        if (result.Content is not [TextContentBlock { Text: "Echo: hello" }])
        {
            throw new InvalidOperationException("wrong answer");
        }
    }
}
