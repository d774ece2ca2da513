using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using AsyncMcp.Aws.Sqs;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// <c>asyncmcp provision --print-iam-policy</c> on the emulator: the policies it prints name the queues and topics it
/// made, by the ARNs SQS gives them, and the worker queues servers create beside their queue; and a real worker, and a
/// real client, make no call the printed policies do not allow.
/// </summary>
public sealed class ProvisionIamPolicyTests(BridgeEmulator emulator)
{
    // What a server does on worker queues (its own and the others'), as the worker code reads: written out here, not
    // taken from the product, so that a call added there without the policy fails this test.
    private static readonly string[] s_workerQueueActions =
    [
        "sqs:CreateQueue", "sqs:TagQueue", "sqs:ListQueueTags", "sqs:DeleteQueue", "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:SendMessage",
    ];

    private static readonly string[] s_receiveActions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];

    private static readonly string[] s_sendActions = ["sqs:SendMessage", "sqs:GetQueueAttributes"];

    private readonly CliProcess _cli = new(emulator);

    [Fact]
    public async Task The_policy_names_the_request_queue_by_its_arn_the_worker_queues_and_what_each_role_does_there()
    {
        var name = FauxqsEmulator.UniqueName("iam-req");
        var (exit, output) = await _cli.RunAsync(["provision", "--request-queue", name, "--response-queue", name + "-r", "--max-receive-count", "0", "--print-iam-policy"]);
        Assert.True(exit == 0, output);

        var printed = CliProcess.JsonDocumentIn(output);
        var requestArn = await QueueArnAsync((string)printed["queues"]![name]!["url"]!);
        var responseArn = await QueueArnAsync((string)printed["queues"]![name + "-r"]!["url"]!);
        Assert.StartsWith("arn:aws:sqs:" + FauxqsEmulator.Region + ":", requestArn, StringComparison.Ordinal);
        var workerQueues = requestArn[..(requestArn.LastIndexOf(':') + 1)] + name + "-w-*";

        var server = printed["iamPolicy"]!["server"]!;
        Assert.Equal("2012-10-17", (string?)server["Version"]);
        Assert.Equal(s_receiveActions.Order(), ActionsOn(server, requestArn).Except(["sqs:GetQueueUrl"]).Order());
        Assert.Equal(s_workerQueueActions.Order(), ActionsOn(server, workerQueues).Order());
        Assert.Equal(new[] { "sqs:ListQueues" }, ActionsOn(server, "*"));
        Assert.Equal(s_sendActions.Order(), ActionsOn(server, responseArn).Order());

        var client = printed["iamPolicy"]!["client"]!;
        Assert.Equal(s_sendActions.Order(), ActionsOn(client, requestArn).Except(["sqs:GetQueueUrl"]).Order());
        Assert.Equal(s_sendActions.Order(), ActionsOn(client, workerQueues).Order());
        Assert.Equal(s_receiveActions.Append("sqs:SendMessage").Order(), ActionsOn(client, responseArn).Except(["sqs:GetQueueUrl"]).Order());
        Assert.Empty(ActionsOn(client, "*"));

        // Without the flag, the output is what it was.
        var (again, plain) = await _cli.RunAsync(["provision", "--request-queue", name, "--max-receive-count", "0"]);
        Assert.True(again == 0, plain);
        Assert.Null(CliProcess.JsonDocumentIn(plain)["iamPolicy"]);
    }

    [Fact]
    public async Task Over_sns_sqs_the_server_may_publish_to_the_client_topic_and_the_client_to_the_server_topic_only()
    {
        var serverTopic = FauxqsEmulator.UniqueName("iam-st");
        var serverQueue = FauxqsEmulator.UniqueName("iam-sq");
        var clientTopic = FauxqsEmulator.UniqueName("iam-ct");
        var clientQueue = FauxqsEmulator.UniqueName("iam-cq");
        var (exit, output) = await _cli.RunAsync(["provision", "--server-topic", serverTopic, "--server-queue", serverQueue, "--client-topic", clientTopic, "--client-queue", clientQueue, "--max-receive-count", "0", "--print-iam-policy"]);
        Assert.True(exit == 0, output);

        var printed = CliProcess.JsonDocumentIn(output);
        var serverQueueArn = await QueueArnAsync((string)printed["queues"]![serverQueue]!["url"]!);
        var clientQueueArn = await QueueArnAsync((string)printed["queues"]![clientQueue]!["url"]!);
        var serverTopicArn = (string)printed["topics"]![serverTopic]!["arn"]!;
        var clientTopicArn = (string)printed["topics"]![clientTopic]!["arn"]!;
        var workerQueues = serverQueueArn[..(serverQueueArn.LastIndexOf(':') + 1)] + serverQueue + "-w-*";

        var server = printed["iamPolicy"]!["server"]!;
        Assert.Equal(s_receiveActions.Order(), ActionsOn(server, serverQueueArn).Order());
        Assert.Equal(s_workerQueueActions.Order(), ActionsOn(server, workerQueues).Order());
        Assert.Equal(new[] { "sqs:ListQueues" }, ActionsOn(server, "*"));
        Assert.Equal(new[] { "sns:Publish" }, ActionsOn(server, clientTopicArn));
        Assert.Empty(ActionsOn(server, serverTopicArn));
        Assert.Empty(ActionsOn(server, clientQueueArn));

        // The SNS+SQS client publishes every message to the server topic; it never sends to a worker queue.
        var client = printed["iamPolicy"]!["client"]!;
        Assert.Equal(new[] { "sns:Publish" }, ActionsOn(client, serverTopicArn));
        Assert.Empty(ActionsOn(client, clientTopicArn));
        Assert.Empty(ActionsOn(client, serverQueueArn));
        Assert.Empty(ActionsOn(client, workerQueues));
        Assert.Equal(s_receiveActions.Append("sqs:SendMessage").Order(), ActionsOn(client, clientQueueArn).Order());
    }

    [Fact]
    public async Task A_worker_and_a_client_make_no_call_the_printed_policies_do_not_allow()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = FauxqsEmulator.UniqueName("iam-run");
        var (exit, output) = await _cli.RunAsync(["provision", "--request-queue", name, "--response-queue", name + "-r", "--response-queue", name + "-peer", "--max-receive-count", "0", "--print-iam-policy"]);
        Assert.True(exit == 0, output);
        var printed = CliProcess.JsonDocumentIn(output);
        var requestUrl = (string)printed["queues"]![name]!["url"]!;
        var responseUrl = (string)printed["queues"]![name + "-r"]!["url"]!;
        var peerUrl = (string)printed["queues"]![name + "-peer"]!["url"]!;
        var arnPrefix = (await QueueArnAsync(requestUrl))[..^name.Length];

        // Two other workers on the queue, as their queues show them: one whose lease has run out (it crashed, leaving a
        // request behind) and one alive, whose session's message comes in on the request queue.
        var gone = await CreateWorkerQueueAsync(name, "0000dead", DateTimeOffset.UtcNow.AddMinutes(-1));
        var alive = await CreateWorkerQueueAsync(name, "0000beef", DateTimeOffset.UtcNow.AddMinutes(10));
        await SendRequestAsync(gone, "0000dead" + new string('1', 24), peerUrl, "gone-1");
        await SendRequestAsync(requestUrl, "0000beef" + new string('2', 24), peerUrl, "handed-over-1");

        var serverCalls = new RecordedCalls(arnPrefix);
        var clientCalls = new RecordedCalls(arnPrefix);
        using var serverSqs = serverCalls.Watch(emulator.Emulator.CreateSqsClient());
        using var clientSqs = clientCalls.Watch(emulator.Emulator.CreateSqsClient());
        var server = new SqsServerTransport(
            serverSqs,
            new SqsServerTransportOptions { RequestQueueUrl = requestUrl, WaitTime = TimeSpan.FromSeconds(1), Workers = { LeaseDuration = TimeSpan.FromSeconds(3) } },
            new McpServerOptions());
        try
        {
            await server.StartAsync(cancellationToken);

            // Our client opens a session and then reaches the worker on its own queue.
            var transport = new SqsClientTransport(clientSqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestUrl, ResponseQueueUrl = responseUrl });
            await using (var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }, cancellationToken: cancellationToken))
            {
                await client.PingAsync(cancellationToken: cancellationToken);
                Assert.Contains(clientCalls.Calls, c => c.Action == "sqs:SendMessage" && c.Resource == arnPrefix + name + "-w-" + server.WorkerId);
            }

            // The live worker's message is handed over; the gone worker's request is answered as a lost session, and its
            // queue removed; the lease is renewed meanwhile.
            Assert.Equal("handed-over-1", await ReceiveRequestIdAsync(alive));
            var lost = await ReceiveAnswerAsync(peerUrl);
            Assert.Equal("session_lost", (string?)lost["error"]!["data"]!["reason"]);
            await Eventually(() => serverCalls.Calls.Any(c => c.Action == "sqs:DeleteQueue" && c.Resource == arnPrefix + name + "-w-0000dead"), what: "the gone worker's queue deleted");
            await Eventually(() => serverCalls.Calls.Any(c => c.Action == "sqs:TagQueue"), what: "a lease renewal");
        }
        finally
        {
            await server.DisposeAsync();
            await emulator.Sqs.DeleteQueueAsync(alive, CancellationToken.None);
        }

        Assert.Contains(serverCalls.Calls, c => c.Action == "sqs:DeleteQueue" && c.Resource == arnPrefix + name + "-w-" + server.WorkerId);
        AssertAllowed(printed["iamPolicy"]!["server"]!, serverCalls, "server");
        AssertAllowed(printed["iamPolicy"]!["client"]!, clientCalls, "client");
    }

    private static void AssertAllowed(JsonNode policy, RecordedCalls recorded, string role)
    {
        var refused = recorded.Calls.Distinct().Where(call => !Allows(policy, call.Action, call.Resource)).ToList();
        Assert.True(refused.Count == 0, $"the {role} policy does not allow: {string.Join(", ", refused.Select(c => $"{c.Action} on {c.Resource}"))}");
    }

    private static bool Allows(JsonNode policy, string action, string resource) =>
        policy["Statement"]!.AsArray().Any(s => Strings(s!["Action"]).Contains(action) && Strings(s["Resource"]).Any(r => Matches(r, resource)));

    /// <summary>The actions the policy allows on exactly this resource (a statement naming it, or a pattern equal to it).</summary>
    private static List<string> ActionsOn(JsonNode policy, string resource) =>
        policy["Statement"]!.AsArray()
            .Where(s => Strings(s!["Resource"]).Contains(resource))
            .SelectMany(s => Strings(s!["Action"]))
            .Distinct()
            .ToList();

    private static IEnumerable<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => (string)n!) : [(string)node!];

    // IAM matches * as any run of characters and ? as any one character.
    private static bool Matches(string pattern, string resource) =>
        Regex.IsMatch(resource, "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);

    private async Task<string> QueueArnAsync(string url) =>
        (await emulator.Sqs.GetQueueAttributesAsync(url, ["QueueArn"], TestContext.Current.CancellationToken)).Attributes["QueueArn"];

    // A worker queue as a worker makes it (its name and tags are what other workers read), made by hand.
    private async Task<string> CreateWorkerQueueAsync(string requestQueue, string workerId, DateTimeOffset leaseEnds) =>
        (await emulator.Sqs.CreateQueueAsync(
            new CreateQueueRequest
            {
                QueueName = requestQueue + "-w-" + workerId,
                Tags = new()
                {
                    ["asyncmcp:worker"] = workerId,
                    ["asyncmcp:request-queue"] = requestQueue,
                    ["asyncmcp:lease-expires"] = leaseEnds.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                },
            },
            TestContext.Current.CancellationToken)).QueueUrl;

    private async Task SendRequestAsync(string queueUrl, string sessionId, string replyTo, string id) =>
        await emulator.Sqs.SendMessageAsync(
            new SendMessageRequest
            {
                QueueUrl = queueUrl,
                MessageBody = new JsonObject
                {
                    ["jsonrpc"] = "2.0",
                    ["id"] = id,
                    ["method"] = "ping",
                    ["params"] = new JsonObject { ["_meta"] = new JsonObject { ["responseQueueUrl"] = replyTo } },
                }.ToJsonString(),
                MessageAttributes = new()
                {
                    ["MessageType"] = new MessageAttributeValue { DataType = "String", StringValue = "jsonrpc" },
                    ["SessionId"] = new MessageAttributeValue { DataType = "String", StringValue = sessionId },
                    ["RequestId"] = new MessageAttributeValue { DataType = "String", StringValue = id },
                    ["Method"] = new MessageAttributeValue { DataType = "String", StringValue = "ping" },
                },
            },
            TestContext.Current.CancellationToken);

    private async Task<string?> ReceiveRequestIdAsync(string queueUrl) => (string?)(await ReceiveAnswerAsync(queueUrl))["id"];

    private async Task<JsonNode> ReceiveAnswerAsync(string queueUrl)
    {
        using var within = Within(TimeSpan.FromSeconds(60));
        while (true)
        {
            var received = await emulator.Sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, WaitTimeSeconds = 1, MaxNumberOfMessages = 1 }, within.Token);
            if (received.Messages is [var message, ..])
            {
                await emulator.Sqs.DeleteMessageAsync(queueUrl, message.ReceiptHandle, within.Token);
                return JsonNode.Parse(message.Body)!;
            }
        }
    }

    /// <summary>Every SQS call a client makes, as the IAM action and resource it needs (the SDK tells before each call).</summary>
    private sealed class RecordedCalls(string arnPrefix)
    {
        public ConcurrentQueue<(string Action, string Resource)> Calls { get; } = new();

        public IAmazonSQS Watch(IAmazonSQS sqs)
        {
            ((AmazonServiceClient)sqs).BeforeRequestEvent += (_, e) =>
            {
                if (e is WebServiceRequestEventArgs { Request: { } request })
                {
                    var action = "sqs:" + request.GetType().Name[..^"Request".Length];
                    Calls.Enqueue((action, ResourceOf(request)));
                }
            };
            return sqs;
        }

        private string ResourceOf(AmazonWebServiceRequest request) => request switch
        {
            ListQueuesRequest => "*",
            CreateQueueRequest create => arnPrefix + create.QueueName,
            GetQueueUrlRequest lookUp => arnPrefix + lookUp.QueueName,
            _ when request.GetType().GetProperty("QueueUrl")?.GetValue(request) is string url => arnPrefix + url[(url.TrimEnd('/').LastIndexOf('/') + 1)..],
            _ => throw new InvalidOperationException($"No resource known for {request.GetType().Name}."),
        };
    }
}
