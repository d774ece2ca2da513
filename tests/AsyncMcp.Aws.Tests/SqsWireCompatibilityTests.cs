using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AsyncMcp.Testing;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// The server answers a client that speaks asyncmcp's wire format with another SQS client (the AWS SDK for
/// JavaScript), in each of the forms asyncmcp uses.
/// </summary>
public sealed partial class SqsWireCompatibilityTests(EmulatorFixture fixture)
{
    [Theory]
    [InlineData("meta")]
    [InlineData("legacy")]
    [InlineData("sns-envelope")]
    public async Task Serves_an_asyncmcp_python_style_client(string mode)
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var responseQueueUrl = await harness.CreateResponseQueueAsync();

        await using var node = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-sqs-client.mjs")],
            RepositoryPaths.Infra,
            new Dictionary<string, string>
            {
                ["INFRA_DIR"] = RepositoryPaths.Infra,
                ["ENDPOINT"] = fixture.Emulator.ServiceUrl,
                ["REQUEST_QUEUE_URL"] = harness.RequestQueueUrl,
                ["RESPONSE_QUEUE_URL"] = responseQueueUrl,
                ["MODE"] = mode,
            });
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"sessionId\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var output = JsonNode.Parse(line)!.AsObject();

        var sessionId = (string)output["sessionId"]!;
        Assert.Matches(HexId(), sessionId);
        var replies = output["replies"]!.AsArray().Select(r => r!.AsObject()).ToList();

        var init = replies.Single(r => (int?)r["body"]!["id"] == 1);
        Assert.Equal("2025-11-25", (string?)init["body"]!["result"]!["protocolVersion"]);
        Assert.Equal("asyncmcp-test-server", (string?)init["body"]!["result"]!["serverInfo"]!["name"]);

        foreach (var reply in replies)
        {
            var attributes = reply["attributes"]!.AsObject();
            Assert.Equal("jsonrpc", (string?)attributes["MessageType"]!["StringValue"]);
            Assert.Equal("String", (string?)attributes["MessageType"]!["DataType"]);
            Assert.Equal("Number", (string?)attributes["Timestamp"]!["DataType"]);
            Assert.InRange(long.Parse((string)attributes["Timestamp"]!["StringValue"]!, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
            Assert.Equal(sessionId, (string?)attributes["SessionId"]!["StringValue"]);
            Assert.Equal("String", (string?)attributes["SessionId"]!["DataType"]);
        }

        var tools = replies.Single(r => (int?)r["body"]!["id"] == 2)["body"]!["result"]!["tools"]!.AsArray();
        Assert.Contains(tools, t => (string?)t!["name"] == "echo");
        var echo = replies.Single(r => (int?)r["body"]!["id"] == 3)["body"]!["result"]!["content"]![0]!;
        Assert.Equal("Echo: from python", (string?)echo["text"]);
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex HexId();
}
