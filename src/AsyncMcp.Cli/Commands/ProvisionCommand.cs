using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>asyncmcp provision</c>: creates the SQS queues (with dead-letter queues) and the SNS topics, queue policies and
/// subscriptions a deployment needs.
/// </summary>
internal static class ProvisionCommand
{
    public static Command Create()
    {
        var request = new Option<string?>("--request-queue") { Description = "sqs: the server's request queue name (end it in .fifo for FIFO)." };
        var responses = new Option<string[]>("--response-queue") { Description = "sqs: a client's response queue name (repeatable)." };
        var serverTopic = new Option<string?>("--server-topic") { Description = "sns-sqs: the server's topic, a name (created) or the ARN of an existing topic." };
        var serverQueue = new Option<string?>("--server-queue") { Description = "sns-sqs: the server's queue name, created and subscribed to --server-topic." };
        var clientTopic = new Option<string?>("--client-topic") { Description = "sns-sqs: a client's topic, a name (created) or the ARN of an existing topic." };
        var clientQueue = new Option<string?>("--client-queue") { Description = "sns-sqs: the client's queue name, created and subscribed to --client-topic." };
        var taskTable = new Option<string?>("--task-table") { Description = "serve --task-tool: the DynamoDB table that keeps tasks, created with TTL on (on-demand capacity)." };
        var taskQueue = new Option<string?>("--task-queue") { Description = "serve --task-tool: the SQS queue that hands tasks to workers (end it in .fifo for FIFO), created with a dead-letter queue like the others." };
        var maxReceives = new Option<int>("--max-receive-count")
        {
            Description = "Deliveries before a message moves to the queue's dead-letter queue (<name>-dlq); 0 creates no dead-letter queues.",
            DefaultValueFactory = _ => 5,
        };
        var visibility = new Option<int>("--visibility-timeout") { Description = "The queues' visibility timeout, in seconds.", DefaultValueFactory = _ => 30 };
        var printPolicy = new Option<bool>("--print-iam-policy")
        {
            Description = "Also print least-privilege IAM policies (key iamPolicy of the output): one for the servers' role and one for the clients', naming what was provisioned (the task table and task queue included) and the worker queues servers create beside their queue (<name>-w-*).",
        };
        var provision = new Command("provision", "Create what an AsyncMcp deployment needs: SQS queues (request queue, response queues), SNS topics with their queues subscribed (server topic and queue, client topic and queue), each queue with a dead-letter queue and redrive policy, and queue policies that let only its topic deliver; for durable tasks, the task table (DynamoDB) and task queue. Safe to run again: what exists is kept.")
        {
            request,
            responses,
            serverTopic,
            serverQueue,
            clientTopic,
            clientQueue,
            taskTable,
            taskQueue,
            TransportSettings.RawDelivery,
            maxReceives,
            visibility,
            printPolicy,
            TransportSettings.EndpointUrl,
            TransportSettings.DynamoDbEndpointUrl,
            TransportSettings.Region,
        };
        provision.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var requestQueue = NameOnly(cli, request, TransportSettings.CheckQueue(cli, request, cli.Get(request)));
            var responseQueues = (cli.Get(responses) ?? []).Select(r => NameOnly(cli, responses, TransportSettings.CheckQueue(cli, responses, r))!).ToArray();
            var pairs = new[]
            {
                (Role: "server", Topic: TransportSettings.OptionalTopic(cli, serverTopic), Queue: NameOnly(cli, serverQueue, TransportSettings.OptionalQueue(cli, serverQueue)), TopicOption: serverTopic, QueueOption: serverQueue),
                (Role: "client", Topic: TransportSettings.OptionalTopic(cli, clientTopic), Queue: NameOnly(cli, clientQueue, TransportSettings.OptionalQueue(cli, clientQueue)), TopicOption: clientTopic, QueueOption: clientQueue),
            };
            foreach (var pair in pairs.Where(p => p.Queue is not null))
            {
                if (pair.Topic is null)
                {
                    throw new CliUsageException($"{pair.QueueOption.Name} needs {pair.TopicOption.Name}: the topic to subscribe the queue to ({CliSettings.Alternatives(pair.TopicOption)}).");
                }

                TransportSettings.CheckFifoPair(pair.TopicOption, pair.Topic, pair.QueueOption, pair.Queue!);
            }

            var table = cli.Get(taskTable) is { } tableText && !string.IsNullOrWhiteSpace(tableText) ? tableText.Trim() : null;
            if (table is not null)
            {
                try
                {
                    new DynamoDbTaskStoreOptions { TableName = table }.Validate();
                }
                catch (ArgumentException)
                {
                    throw new CliUsageException($"--task-table must be a DynamoDB table name of 3 to 255 letters, digits, '_', '-' and '.' (was '{table}'{cli.Origin(taskTable)}).");
                }
            }

            var tasksQueue = NameOnly(cli, taskQueue, TransportSettings.CheckQueue(cli, taskQueue, cli.Get(taskQueue)));
            if (requestQueue is null && responseQueues.Length == 0 && pairs.All(p => p.Topic is null) && table is null && tasksQueue is null)
            {
                throw new CliUsageException("name at least one queue, topic or table: --request-queue, --response-queue, --server-topic (with --server-queue), --client-topic (with --client-queue), --task-table, --task-queue.");
            }

            var receives = cli.Get(maxReceives);
            if (receives < 0 || receives > 1000)
            {
                throw new CliUsageException($"--max-receive-count must be from 0 to 1000 (was {receives}{cli.Origin(maxReceives)}).");
            }

            var seconds = cli.Get(visibility);
            if (seconds < 0 || seconds > 43_200)
            {
                throw new CliUsageException($"--visibility-timeout must be from 0 to 43200 seconds (was {seconds}{cli.Origin(visibility)}).");
            }

            var (endpoint, region) = TransportSettings.ReadAws(cli);
            var rawDelivery = cli.Get(TransportSettings.RawDelivery);
            var settings = new SqsQueueSettings { VisibilityTimeout = TimeSpan.FromSeconds(seconds), MaxReceiveCount = receives == 0 ? null : receives };
            using var sqs = TransportSettings.CreateSqs(endpoint, region);
            var queues = new JsonObject();
            var topics = new JsonObject();
            var provisioner = new SqsQueueProvisioner(sqs);
            var policies = new LeastPrivilegePolicies();
            var ordinaryQueues = (requestQueue is null ? [] : new[] { ("request", requestQueue) })
                .Concat(responseQueues.Select(r => ("response", r)))
                .Concat(tasksQueue is null ? [] : new[] { ("task", tasksQueue) });
            foreach (var (role, name) in ordinaryQueues)
            {
                // The ARN is the queue's own (read back from SQS), so the policies name its real account, region and partition.
                var info = await provisioner.EnsureQueueAsync(name, settings, cancellationToken);
                queues[name] = new JsonObject { ["role"] = role, ["url"] = info.QueueUrl, ["arn"] = info.QueueArn, ["deadLetterQueueUrl"] = info.DeadLetterQueueUrl };
                (role switch { "request" => policies.RequestQueues, "task" => policies.TaskQueues, _ => policies.ResponseQueues }).Add(info.QueueArn);
            }

            if (pairs.Any(p => p.Topic is not null))
            {
                using var sns = TransportSettings.CreateSns(endpoint, region);
                var snsProvisioner = new SnsSqsProvisioner(sqs, sns);
                foreach (var pair in pairs.Where(p => p.Topic is not null))
                {
                    var topicArn = await TransportSettings.TopicArnAsync(snsProvisioner, pair.Topic!, cancellationToken);
                    topics[topicArn.Split(':')[^1]] = new JsonObject { ["role"] = pair.Role, ["arn"] = topicArn };
                    (pair.Role == "server" ? policies.ServerTopics : policies.ClientTopics).Add(topicArn);
                    if (pair.Queue is { } queueName)
                    {
                        var subscription = await snsProvisioner.EnsureSubscribedQueueAsync(
                            topicArn,
                            queueName,
                            new SnsSqsSubscriptionSettings { RawMessageDelivery = rawDelivery, Queue = settings },
                            cancellationToken);
                        queues[queueName] = new JsonObject
                        {
                            ["role"] = pair.Role,
                            ["url"] = subscription.Queue.QueueUrl,
                            ["arn"] = subscription.Queue.QueueArn,
                            ["deadLetterQueueUrl"] = subscription.Queue.DeadLetterQueueUrl,
                            ["topicArn"] = topicArn,
                            ["subscriptionArn"] = subscription.SubscriptionArn,
                            ["rawDelivery"] = rawDelivery,
                        };
                        (pair.Role == "server" ? policies.ServerQueues : policies.ClientQueues).Add(subscription.Queue.QueueArn);
                    }
                }
            }

            var tables = new JsonObject();
            if (table is not null)
            {
                using var dynamo = TransportSettings.CreateDynamoDb(TransportSettings.ReadDynamoDbEndpoint(cli, endpoint), region);
                var tableArn = await new DynamoDbTaskTableProvisioner(dynamo).EnsureTableAsync(table, cancellationToken);
                tables[table] = new JsonObject { ["role"] = "tasks", ["arn"] = tableArn, ["timeToLiveAttribute"] = "expiresAt" };
                policies.TaskTables.Add(tableArn);
            }

            var output = new JsonObject { ["topics"] = topics, ["queues"] = queues };
            if (tables.Count > 0)
            {
                output["tables"] = tables;
            }

            if (cli.Get(printPolicy))
            {
                output["iamPolicy"] = policies.ToJson();
            }

            Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return CliRuntime.Ok;
        }));
        return provision;
    }

    // provision creates queues, so it takes names; a URL names a queue that already exists.
    private static string? NameOnly(CliSettings cli, Option option, string? value) =>
        value is not null && TransportSettings.IsUrl(value)
            ? throw new CliUsageException($"{option.Name} takes a queue name for provision to create, not a URL (was '{value}'{cli.Origin(option)}).")
            : value;
}
