using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Testing;

/// <summary>
/// A client that answers the server's questions (sampling and elicitation) whichever way they are asked, for the test
/// server's four tools that ask: <c>sample</c> and <c>elicit</c> await the client (<c>SampleAsync</c>/<c>ElicitAsync</c>),
/// <c>sample_explicit</c> and <c>elicit_explicit</c> return an <c>input_required</c> result (<c>InputRequiredException</c>).
/// </summary>
public static class InputRequiredClient
{
    /// <summary>The four tools that ask, with the text each answers once the client has answered.</summary>
    public static IReadOnlyList<(string Tool, Dictionary<string, object?> Arguments, string Expected)> Asks { get; } =
    [
        ("sample", new() { ["prompt"] = "ping" }, "model test-model said: sampled ping"),
        ("elicit", new(), "hello Ada"),
        ("sample_explicit", new() { ["prompt"] = "ping" }, "model test-model said: sampled ping"),
        ("elicit_explicit", new(), "hello Ada"),
    ];

    /// <summary>Client options whose handlers answer every sampling request with "sampled …" and every elicitation with the name Ada.</summary>
    public static McpClientOptions Options(string? protocolVersion) => new()
    {
        ProtocolVersion = protocolVersion,
        Handlers = new()
        {
            SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
            {
                Model = "test-model",
                Role = Role.Assistant,
                Content = [new TextContentBlock { Text = "sampled " + string.Join(" ", request!.Messages.SelectMany(m => m.Content).OfType<TextContentBlock>().Select(c => c.Text)) }],
            }),
            ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement("Ada") } }),
        },
    };

    /// <summary>Calls a tool that asks, within a minute; its text, or "(error) …" when it answered with an error result.</summary>
    public static async Task<string> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments, JsonDocument? meta = null, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var request = new CallToolRequestParams
        {
            Name = tool,
            Arguments = arguments.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value)),
            Meta = meta is null ? null : System.Text.Json.Nodes.JsonNode.Parse(meta.RootElement.GetRawText())!.AsObject(),
        };
        var result = await client.CallToolAsync(request, timeout.Token).ConfigureAwait(false);
        var text = string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text));
        return result.IsError == true ? "(error) " + text : text;
    }

    /// <summary>Asserts that all four tools get their answer on <paramref name="client"/>.</summary>
    public static async Task AssertAllAnsweredAsync(McpClient client, CancellationToken cancellationToken = default)
    {
        foreach (var (tool, arguments, expected) in Asks)
        {
            var text = await CallAsync(client, tool, arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (text != expected)
            {
                throw new InvalidOperationException($"'{tool}' answered '{text}', expected '{expected}' (protocol {client.NegotiatedProtocolVersion}).");
            }
        }
    }
}
