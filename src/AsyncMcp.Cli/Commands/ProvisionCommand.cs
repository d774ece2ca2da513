using System.CommandLine;
using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp provision</c>: creates the SQS queues a deployment needs, with dead-letter queues.</summary>
internal static class ProvisionCommand
{
    public static Command Create()
    {
        var request = new Option<string?>("--request-queue") { Description = "The server's request queue name (end it in .fifo for FIFO). Env: ASYNCMCP_REQUEST_QUEUE." };
        var responses = new Option<string[]>("--response-queue") { Description = "A client's response queue name (repeatable)." };
        var maxReceives = new Option<int>("--max-receive-count")
        {
            Description = "Deliveries before a message moves to the queue's dead-letter queue (<name>-dlq); 0 creates no dead-letter queues.",
            DefaultValueFactory = _ => 5,
        };
        var visibility = new Option<int>("--visibility-timeout") { Description = "The queues' visibility timeout, in seconds.", DefaultValueFactory = _ => 30 };
        var provision = new Command("provision", "Create the SQS queues an AsyncMcp deployment needs (request queue, response queues), each with a dead-letter queue and redrive policy. Safe to run again: existing queues are kept.")
        {
            request,
            responses,
            maxReceives,
            visibility,
        };
        provision.Options.Add(TransportSettings.EndpointUrl);
        provision.Options.Add(TransportSettings.Region);
        provision.SetAction((result, cancellationToken) => CliRuntime.RunAsync(async () =>
        {
            var requestQueue = result.GetValue(request) ?? Environment.GetEnvironmentVariable("ASYNCMCP_REQUEST_QUEUE");
            var responseQueues = result.GetValue(responses) ?? [];
            if (string.IsNullOrWhiteSpace(requestQueue) && responseQueues.Length == 0)
            {
                throw new CliUsageException("name at least one queue: --request-queue and/or --response-queue.");
            }

            var receives = result.GetValue(maxReceives);
            if (receives < 0 || receives > 1000)
            {
                throw new CliUsageException($"--max-receive-count must be from 0 to 1000 (was {receives}).");
            }

            var seconds = result.GetValue(visibility);
            if (seconds < 0 || seconds > 43_200)
            {
                throw new CliUsageException($"--visibility-timeout must be from 0 to 43200 seconds (was {seconds}).");
            }

            var endpoint = result.GetValue(TransportSettings.EndpointUrl) ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
            using var sqs = Aws.AwsClientFactory.CreateSqs(endpoint, result.GetValue(TransportSettings.Region) ?? Environment.GetEnvironmentVariable("AWS_REGION"));
            var provisioner = new SqsQueueProvisioner(sqs);
            var settings = new SqsQueueSettings { VisibilityTimeout = TimeSpan.FromSeconds(seconds), MaxReceiveCount = receives == 0 ? null : receives };
            var created = new JsonObject();
            foreach (var (role, name) in (string.IsNullOrWhiteSpace(requestQueue) ? [] : new[] { ("request", requestQueue) }).Concat(responseQueues.Select(r => ("response", r))))
            {
                var info = await provisioner.EnsureQueueAsync(name, settings, cancellationToken);
                created[name] = new JsonObject { ["role"] = role, ["url"] = info.QueueUrl, ["arn"] = info.QueueArn, ["deadLetterQueueUrl"] = info.DeadLetterQueueUrl };
            }

            Console.WriteLine(created.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return CliRuntime.Ok;
        }));
        return provision;
    }
}
