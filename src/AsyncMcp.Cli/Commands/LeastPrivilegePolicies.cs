using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// The least-privilege IAM policies of what <c>provision</c> made: one for the role the servers run as and one for the
/// clients' role, naming exactly the queues, topics and task tables provisioned and, for each queue servers receive from, the worker
/// queues they create beside it (<c>&lt;name&gt;-w-*</c>). The actions are the calls the transports make, and nothing
/// else (docs/deployment.md explains each).
/// </summary>
internal sealed class LeastPrivilegePolicies
{
    private static readonly string[] s_receive = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];

    // A worker creates (tagged), renews, reads, receives from, sweeps and deletes worker queues, its own and those of gone
    // workers, and hands other workers their sessions' messages; creating a queue with tags needs sqs:TagQueue as well.
    private static readonly string[] s_workerQueues =
    [
        "sqs:CreateQueue", "sqs:TagQueue", "sqs:ListQueueTags", "sqs:DeleteQueue", "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:SendMessage",
    ];

    // The task store's calls (conditional writes included) and the start-up check that the table exists.
    private static readonly string[] s_taskTable = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"];

    // Workers enqueue a task, take it, keep its lease, and delete it when done.
    private static readonly string[] s_taskQueue = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"];

    // Sending checks the destination's MaximumMessageSize first (read once per queue).
    private static readonly string[] s_send = ["sqs:SendMessage", "sqs:GetQueueAttributes"];

    // A client also sends to its own reply queue: the wake-up that ends its long poll when it stops.
    private static readonly string[] s_receiveReplies = [.. s_receive, "sqs:SendMessage"];

    /// <summary>The ARNs of SQS request queues (transport <c>sqs</c>): servers receive there, clients send there.</summary>
    public List<string> RequestQueues { get; } = [];

    /// <summary>The ARNs of SQS response queues: servers answer there, a client receives there.</summary>
    public List<string> ResponseQueues { get; } = [];

    /// <summary>The ARNs of SNS+SQS server queues (subscribed to a server topic): servers receive there.</summary>
    public List<string> ServerQueues { get; } = [];

    /// <summary>The ARNs of SNS+SQS client queues (subscribed to a client topic): a client receives there.</summary>
    public List<string> ClientQueues { get; } = [];

    /// <summary>The ARNs of task tables (DynamoDB): servers read and write tasks there.</summary>
    public List<string> TaskTables { get; } = [];

    /// <summary>The ARNs of task queues: servers hand tasks to their workers there, and take them.</summary>
    public List<string> TaskQueues { get; } = [];

    /// <summary>The ARNs of server topics: clients publish requests there.</summary>
    public List<string> ServerTopics { get; } = [];

    /// <summary>The ARNs of client topics: servers publish answers there.</summary>
    public List<string> ClientTopics { get; } = [];

    /// <summary>
    /// The pattern that matches every worker queue of a queue servers receive from: the queue's ARN with its name
    /// replaced by the prefix workers name their queues with (the account, region and partition are the queue's).
    /// </summary>
    public static string WorkerQueuesOf(string queueArn)
    {
        var name = queueArn.LastIndexOf(':') + 1;
        return queueArn[..name] + WorkerNames.Prefix(queueArn[name..]) + "*";
    }

    /// <summary>
    /// <c>{"server": policy, "client": policy}</c>, each an IAM policy document; a role that needs nothing of what was
    /// provisioned (a server, when only a response queue was) is left out.
    /// </summary>
    public JsonObject ToJson()
    {
        var policies = new JsonObject();
        if (Document(ServerStatements()) is { } server)
        {
            policies["server"] = server;
        }

        if (Document(ClientStatements()) is { } client)
        {
            policies["client"] = client;
        }

        return policies;
    }

    private IEnumerable<JsonObject?> ServerStatements()
    {
        var received = RequestQueues.Concat(ServerQueues).ToList();
        yield return Statement("ReceiveRequests", s_receive, received);
        yield return Statement("LookUpRequestQueuesByName", ["sqs:GetQueueUrl"], RequestQueues);
        yield return Statement("WorkerQueues", s_workerQueues, received.Select(WorkerQueuesOf));
        yield return received.Count == 0 ? null : Statement("FindWorkerQueues", ["sqs:ListQueues"], ["*"]);
        yield return Statement("AnswerOnResponseQueues", s_send, ResponseQueues);
        yield return Statement("PublishAnswers", ["sns:Publish"], ClientTopics);
        yield return Statement("TaskTable", s_taskTable, TaskTables);
        yield return Statement("TaskQueue", s_taskQueue, TaskQueues);
    }

    private IEnumerable<JsonObject?> ClientStatements()
    {
        yield return Statement("SendRequests", s_send, RequestQueues);

        // Only the SQS client sends a session's messages straight to the worker holding it; the SNS+SQS one publishes.
        yield return Statement("SendToSessionWorkers", s_send, RequestQueues.Select(WorkerQueuesOf));
        yield return Statement("PublishRequests", ["sns:Publish"], ServerTopics);
        yield return Statement("ReceiveReplies", s_receiveReplies, ResponseQueues.Concat(ClientQueues));
        yield return Statement("LookUpQueuesByName", ["sqs:GetQueueUrl"], RequestQueues.Concat(ResponseQueues));
    }

    private static JsonObject? Document(IEnumerable<JsonObject?> statements)
    {
        var list = new JsonArray([.. statements.OfType<JsonObject>()]);
        return list.Count == 0 ? null : new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = list };
    }

    private static JsonObject? Statement(string sid, string[] actions, IEnumerable<string> resources)
    {
        var distinct = resources.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0)
        {
            return null;
        }

        return new JsonObject
        {
            ["Sid"] = sid,
            ["Effect"] = "Allow",
            ["Action"] = new JsonArray([.. actions.Select(a => JsonValue.Create(a))]),
            ["Resource"] = distinct.Length == 1 ? JsonValue.Create(distinct[0]) : new JsonArray([.. distinct.Select(r => JsonValue.Create(r))]),
        };
    }
}
