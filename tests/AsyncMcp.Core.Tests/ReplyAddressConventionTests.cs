using System.Text.Json.Nodes;
using AsyncMcp.Wire;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests;

public sealed class ReplyAddressConventionTests
{
    private static JsonRpcRequest Request(string? paramsJson) => new()
    {
        Id = new RequestId(1),
        Method = "initialize",
        Params = paramsJson is null ? null : JsonNode.Parse(paramsJson),
    };

    [Fact]
    public void Reads_the_meta_form_and_the_legacy_form_preferring_meta()
    {
        var sqs = ReplyAddressConvention.SqsResponseQueue;

        Assert.Equal("q1", sqs.Read(Request("{\"_meta\":{\"responseQueueUrl\":\"q1\"}}")));
        Assert.Equal("q2", sqs.Read(Request("{\"response_queue_url\":\"q2\"}")));
        Assert.Equal("q1", sqs.Read(Request("{\"_meta\":{\"responseQueueUrl\":\"q1\"},\"response_queue_url\":\"q2\"}")));
        Assert.Null(sqs.Read(Request(null)));
        Assert.Null(sqs.Read(Request("{\"_meta\":{\"responseQueueUrl\":\"\"}}")));
        Assert.Null(sqs.Read(Request("{\"_meta\":{\"responseQueueUrl\":5}}")));
        Assert.Null(ReplyAddressConvention.Webhook.Read(Request("{\"response_queue_url\":\"q2\"}")));
    }

    [Fact]
    public void Writes_into_meta_creating_params_when_needed_and_keeping_other_meta()
    {
        var bare = Request(null);
        ReplyAddressConvention.SnsClientTopic.Write(bare, "arn:topic");
        Assert.Equal("arn:topic", (string?)bare.Params!["_meta"]!["clientTopicArn"]);

        var withMeta = Request("{\"_meta\":{\"progressToken\":7},\"name\":\"echo\"}");
        ReplyAddressConvention.SqsResponseQueue.Write(withMeta, "q");
        Assert.Equal(7, (int)withMeta.Params!["_meta"]!["progressToken"]!);
        Assert.Equal("echo", (string?)withMeta.Params!["name"]);
        Assert.Equal("q", (string?)withMeta.Params!["_meta"]!["responseQueueUrl"]);
    }

    [Fact]
    public void Writes_the_legacy_key_too_into_initialize_only_so_that_servers_of_either_asyncmcp_release_can_answer()
    {
        var initialize = Request("{\"protocolVersion\":\"2025-11-25\"}");
        ReplyAddressConvention.SqsResponseQueue.Write(initialize, "q");
        Assert.Equal("q", (string?)initialize.Params!["_meta"]!["responseQueueUrl"]);
        Assert.Equal("q", (string?)initialize.Params!["response_queue_url"]);
        Assert.Equal("q", ReplyAddressConvention.SqsResponseQueue.Read(initialize));

        var topic = Request(null);
        ReplyAddressConvention.SnsClientTopic.Write(topic, "arn:aws:sns:us-east-1:000000000000:t");
        Assert.Equal("arn:aws:sns:us-east-1:000000000000:t", (string?)topic.Params!["client_topic_arn"]);

        var call = new JsonRpcRequest { Id = new RequestId(2), Method = "tools/call", Params = JsonNode.Parse("{\"name\":\"echo\"}") };
        ReplyAddressConvention.SqsResponseQueue.Write(call, "q");
        Assert.Null(call.Params!["response_queue_url"]);
        Assert.Equal("q", (string?)call.Params!["_meta"]!["responseQueueUrl"]);

        var webhook = Request(null);
        ReplyAddressConvention.Webhook.Write(webhook, "https://client.example/hook");
        Assert.Single(webhook.Params!.AsObject());
    }
}
