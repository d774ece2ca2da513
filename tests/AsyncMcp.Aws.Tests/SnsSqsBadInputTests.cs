using System.Globalization;
using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Testing;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// Over SNS+SQS, bodies the .NET reader refuses late and requests of the wrong JSON-RPC shape that name a client topic
/// get their error on that topic at once, the server's queue is left empty, and the server keeps serving.
/// </summary>
public sealed class SnsSqsBadInputTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bad_bodies_are_answered_on_the_client_topic_they_name(bool rawToServer)
    {
        await using var harness = await SnsSqsHarness.StartAsync(fixture, rawToServer);
        var endpoint = await harness.CreateClientEndpointAsync();
        var clientQueue = new RawSqsPeer(fixture.Sqs, harness.ServerQueue.Queue.QueueUrl, endpoint.Queue.QueueUrl);
        var cases = BadJsonRpcBodies.All("clientTopicArn", endpoint.TopicArn);

        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            await fixture.Sns.PublishAsync(
                new SnsPublishRequest(harness.ServerTopicArn, c.Body)
                {
                    MessageAttributes = new Dictionary<string, SnsAttributeValue>
                    {
                        ["MessageType"] = new("String", "jsonrpc"),
                        ["Timestamp"] = new("Number", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
                        ["ClientId"] = new("String", $"case-{i}"),
                    },
                },
                Timeout);
        }

        var errors = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var reply in await clientQueue.ReceiveManyAsync(cases.Count, m => RawSqsPeer.Body(m).ContainsKey("error")))
        {
            Assert.True(errors.TryAdd(reply.MessageAttributes["ClientId"].StringValue, RawSqsPeer.Body(reply)));
        }

        foreach (var (c, i) in cases.Select((c, i) => (c, i)))
        {
            var error = errors[$"case-{i}"];
            Assert.True(error.ContainsKey("id"), c.Name);
            Assert.True(c.Id == (long?)error["id"], $"{c.Name}: id {error["id"]?.ToJsonString() ?? "null"}");
            Assert.Equal(-32600, (int)error["error"]!["code"]!);
            Assert.Contains(c.Expected, (string?)error["error"]!["message"], StringComparison.Ordinal);
        }

        // Settled on the first receipt: nothing left on the server's queue, visible or in flight.
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (true)
            {
                var attributes = await fixture.Sqs.GetQueueAttributesAsync(harness.ServerQueue.Queue.QueueUrl, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"], Timeout);
                if (attributes.ApproximateNumberOfMessages == 0 && attributes.ApproximateNumberOfMessagesNotVisible == 0)
                {
                    break;
                }

                Assert.False(deadline.IsCancellationRequested, "The server's queue still holds messages.");
                await Task.Delay(50, Timeout);
            }
        }

        Assert.DoesNotContain(harness.Logs.Entries, e => e.Message.Contains("Handling message", StringComparison.Ordinal));

        var client = await harness.ConnectAsync(Protocols.November2025);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: Timeout);
        Assert.Equal("Echo: still here", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }
}
