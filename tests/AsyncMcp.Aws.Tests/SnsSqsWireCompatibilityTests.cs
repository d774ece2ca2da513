using System.Text.Json.Nodes;
using AsyncMcp.Testing;

namespace AsyncMcp.Aws.Tests;

/// <summary>The SNS+SQS server answers a client speaking asyncmcp's wire format with the AWS SDK for JavaScript.</summary>
public sealed class SnsSqsWireCompatibilityTests(EmulatorFixture fixture)
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Serves_an_asyncmcp_python_style_sns_client(bool rawToServer, bool rawToClient)
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, rawToServer);
        var endpoint = await harness.CreateClientEndpointAsync(rawToClient);

        await using var node = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", "asyncmcp-sns-client.mjs")],
            RepositoryPaths.Infra,
            new Dictionary<string, string>
            {
                ["INFRA_DIR"] = RepositoryPaths.Infra,
                ["ENDPOINT"] = fixture.Emulator.ServiceUrl,
                ["SERVER_TOPIC_ARN"] = harness.ServerTopicArn,
                ["CLIENT_TOPIC_ARN"] = endpoint.TopicArn,
                ["CLIENT_QUEUE_URL"] = endpoint.Queue.QueueUrl,
            });
        var line = await node.WaitForLineAsync(l => l.StartsWith("{\"sessionId\"", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var output = JsonNode.Parse(line)!.AsObject();

        var sessionId = (string)output["sessionId"]!;
        Assert.Equal(32, sessionId.Length);
        var replies = output["replies"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.All(replies, r => Assert.Equal(!rawToClient, (bool)r["enveloped"]!));
        foreach (var reply in replies)
        {
            var attributes = reply["attributes"]!.AsObject();
            Assert.Equal("jsonrpc", (string?)attributes["MessageType"]!["StringValue"]);
            Assert.Equal("Number", (string?)attributes["Timestamp"]!["DataType"]);
            Assert.Equal(sessionId, (string?)attributes["SessionId"]!["StringValue"]);
        }

        Assert.Equal("2025-11-25", (string?)replies.Single(r => (int?)r["body"]!["id"] == 1)["body"]!["result"]!["protocolVersion"]);
        Assert.Equal("Echo: from python over sns", (string?)replies.Single(r => (int?)r["body"]!["id"] == 2)["body"]!["result"]!["content"]![0]!["text"]);
    }
}
