using Amazon.S3.Model;
using AsyncMcp.Aws.LargePayloads;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Messaging;
using AsyncMcp.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>Payloads larger than the queue allows travel through S3 (claim check) and are cleaned up.</summary>
public sealed class SqsLargePayloadTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Protocols.Both), MemberType = typeof(Protocols))]
    public async Task A_two_megabyte_argument_and_result_go_through_S3_intact_and_the_objects_are_removed(string protocol)
    {
        var bucket = "payloads-" + Guid.NewGuid().ToString("N")[..12];
        await fixture.S3.PutBucketAsync(bucket, Timeout);
        var offload = new SqsLargePayloadOptions { BucketName = bucket };
        var requestQueueUrl = await fixture.CreateQueueAsync("big-req");
        await using var server = new SqsServerTransport(
            fixture.Sqs,
            new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, LargePayloads = offload },
            TestMcpServer.CreateOptions(),
            SqsHarness.LoggerFactory,
            s3: fixture.S3);
        await server.StartAsync(Timeout);
        var transport = new SqsClientTransport(
            fixture.Sqs,
            new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = await fixture.CreateQueueAsync("big-resp"), LargePayloads = offload },
            SqsHarness.LoggerFactory,
            fixture.S3);
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = Protocols.ClientSetting(protocol) }, cancellationToken: Timeout);

        var message = string.Create(2 * 1024 * 1024, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: Timeout);

        Assert.Equal("Echo: " + message, Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await Eventually(() => CountObjects(bucket) == 0);
    }

    [Fact]
    public async Task Without_offload_a_too_large_argument_fails_the_call_with_a_clear_error()
    {
        await using var harness = await SqsHarness.StartAsync(fixture);
        var client = await harness.ConnectAsync(Protocols.November2025);

        var ex = await Assert.ThrowsAsync<MessageTooLargeException>(() => client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = new string('x', 2 * 1024 * 1024) }, cancellationToken: Timeout).AsTask());

        Assert.Contains("more than the 1048576 bytes the broker accepts", ex.Message, StringComparison.Ordinal);
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "small" }, cancellationToken: Timeout);
        Assert.Equal("Echo: small", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
    }

    [Fact]
    public void Offload_options_need_a_bucket_and_an_S3_client()
    {
        var options = new SqsClientTransportOptions { ServerRequestQueueUrl = "http://127.0.0.1:1/0/q", ResponseQueueUrl = "http://127.0.0.1:1/0/r", LargePayloads = new SqsLargePayloadOptions() };
        Assert.Contains("LargePayloads.BucketName is required", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);

        options.LargePayloads.BucketName = "b";
        var ex = Assert.Throws<ArgumentException>(() => new SqsClientTransport(fixture.Sqs, options));
        Assert.Contains("IAmazonS3", ex.Message, StringComparison.Ordinal);
    }

    private int CountObjects(string bucket) =>
        fixture.S3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket }).GetAwaiter().GetResult().S3Objects?.Count ?? 0;
}
