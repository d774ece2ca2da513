using System.CommandLine;
using Amazon.SQS;
using AsyncMcp.Aws;
using AsyncMcp.Aws.Sqs;

namespace AsyncMcp.Cli.Commands;

/// <summary>The options that say where the SQS queues are, shared by every command; each falls back to an environment variable.</summary>
internal static class SqsSettings
{
    public static readonly Option<string?> Transport = new("--transport")
    {
        Description = "The async transport. Only 'sqs' in this version.",
        DefaultValueFactory = _ => "sqs",
    };

    public static readonly Option<string?> RequestQueue = new("--request-queue")
    {
        Description = "The server's request queue: a queue URL, or a name (created if missing). Env: ASYNCMCP_REQUEST_QUEUE.",
    };

    public static readonly Option<string?> ResponseQueue = new("--response-queue")
    {
        Description = "The client's response queue: a queue URL, or a name (created if missing). Env: ASYNCMCP_RESPONSE_QUEUE.",
    };

    public static readonly Option<string?> EndpointUrl = new("--endpoint-url")
    {
        Description = "The SQS endpoint (a local emulator, say); unset for AWS. Env: AWS_ENDPOINT_URL.",
    };

    public static readonly Option<string?> Region = new("--region")
    {
        Description = "The AWS region. Env: AWS_REGION (default us-east-1 with an endpoint).",
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Log more (to standard error).",
    };

    public static void AddTo(Command command, bool responseQueue)
    {
        command.Options.Add(Transport);
        command.Options.Add(RequestQueue);
        if (responseQueue)
        {
            command.Options.Add(ResponseQueue);
        }

        command.Options.Add(EndpointUrl);
        command.Options.Add(Region);
        command.Options.Add(Verbose);
    }

    /// <summary>Reads the settings, with their environment fallbacks, and checks them.</summary>
    /// <exception cref="CliUsageException">A setting is missing or invalid; the message names it.</exception>
    public static Resolved Read(ParseResult result, bool responseQueue)
    {
        var transport = result.GetValue(Transport) ?? "sqs";
        if (!string.Equals(transport, "sqs", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUsageException($"--transport '{transport}' is not supported by this version of the command; use 'sqs'.");
        }

        var request = result.GetValue(RequestQueue) ?? Environment.GetEnvironmentVariable("ASYNCMCP_REQUEST_QUEUE");
        if (string.IsNullOrWhiteSpace(request))
        {
            throw new CliUsageException("--request-queue is required (or set ASYNCMCP_REQUEST_QUEUE): the server's request queue URL or name.");
        }

        string? response = null;
        if (responseQueue)
        {
            response = result.GetValue(ResponseQueue) ?? Environment.GetEnvironmentVariable("ASYNCMCP_RESPONSE_QUEUE");
            if (string.IsNullOrWhiteSpace(response))
            {
                throw new CliUsageException("--response-queue is required (or set ASYNCMCP_RESPONSE_QUEUE): this client's own response queue URL or name.");
            }
        }

        var endpoint = result.GetValue(EndpointUrl) ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri) || (endpointUri.Scheme != Uri.UriSchemeHttp && endpointUri.Scheme != Uri.UriSchemeHttps)))
        {
            throw new CliUsageException($"--endpoint-url must be an absolute http(s) URL (was '{endpoint}').");
        }

        return new Resolved(request, response, endpoint, result.GetValue(Region) ?? Environment.GetEnvironmentVariable("AWS_REGION"), result.GetValue(Verbose));
    }

    /// <summary>The settings after environment fallbacks.</summary>
    internal sealed record Resolved(string RequestQueue, string? ResponseQueue, string? EndpointUrl, string? Region, bool Verbose)
    {
        public IAmazonSQS CreateSqs() => AwsClientFactory.CreateSqs(EndpointUrl, Region);

        /// <summary>A queue URL as given, or the URL of the named queue (created if missing).</summary>
        public static async Task<string> QueueUrlAsync(IAmazonSQS sqs, string urlOrName, CancellationToken cancellationToken)
        {
            if (urlOrName.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || urlOrName.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return urlOrName;
            }

            var queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(urlOrName, cancellationToken: cancellationToken).ConfigureAwait(false);
            return queue.QueueUrl;
        }
    }
}

/// <summary>Bad flags or configuration: reported as one line naming the option, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
