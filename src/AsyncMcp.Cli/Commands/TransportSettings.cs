using System.CommandLine;
using Amazon.SQS;
using AsyncMcp.Aws;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace AsyncMcp.Cli.Commands;

/// <summary>The options that say where the SQS queues are, shared by every command; each falls back to an environment variable.</summary>
internal static class TransportSettings
{
    public static readonly Option<string?> Transport = new("--transport")
    {
        Description = "The async transport: sqs (default), webhook, or hybrid (clients only: call and proxy).",
        DefaultValueFactory = _ => "sqs",
    };

    public static readonly Option<string?> ServerUrl = new("--server-url")
    {
        Description = "webhook and hybrid: the server's endpoint (webhook: its /mcp/request URL; hybrid: its Streamable HTTP URL). Env: ASYNCMCP_SERVER_URL.",
    };

    public static readonly Option<string?> Listen = new("--listen")
    {
        Description = "serve --transport webhook: the address to listen on, such as http://127.0.0.1:8080 (the endpoint is /mcp/request).",
    };

    public static readonly Option<string?> Secret = new("--secret")
    {
        Description = "webhook and hybrid: the shared Standard Webhooks secret (whsec_...). Env: ASYNCMCP_WEBHOOK_SECRET.",
    };

    public static readonly Option<bool> AllowUnsigned = new("--allow-unsigned")
    {
        Description = "webhook and hybrid: accept unsigned messages (only for peers that cannot sign, such as the Python asyncmcp).",
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
        command.Options.Add(ServerUrl);
        command.Options.Add(Secret);
        command.Options.Add(AllowUnsigned);
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
        var transport = (result.GetValue(Transport) ?? "sqs").ToLowerInvariant();
        var verbose = result.GetValue(Verbose);
        if (transport is "webhook" or "hybrid")
        {
            var secret = result.GetValue(Secret) ?? Environment.GetEnvironmentVariable("ASYNCMCP_WEBHOOK_SECRET");
            var allowUnsigned = result.GetValue(AllowUnsigned);
            if (string.IsNullOrWhiteSpace(secret) && !allowUnsigned)
            {
                throw new CliUsageException($"--secret is required with --transport {transport} (or set ASYNCMCP_WEBHOOK_SECRET; --allow-unsigned for peers that cannot sign).");
            }

            var serverText = result.GetValue(ServerUrl) ?? Environment.GetEnvironmentVariable("ASYNCMCP_SERVER_URL");
            Uri.TryCreate(serverText, UriKind.Absolute, out var serverUrl);
            if (responseQueue && (serverUrl is null || (serverUrl.Scheme != Uri.UriSchemeHttp && serverUrl.Scheme != Uri.UriSchemeHttps)))
            {
                throw new CliUsageException($"--server-url is required with --transport {transport} and must be an absolute http(s) URL (or set ASYNCMCP_SERVER_URL).");
            }

            return new Resolved(transport, string.Empty, null, null, null, verbose) { ServerUrl = serverUrl, Secret = secret, AllowUnsigned = allowUnsigned };
        }

        if (transport != "sqs")
        {
            throw new CliUsageException($"--transport '{transport}' is not supported by this version of the command; use sqs, webhook or hybrid.");
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

        return new Resolved("sqs", request, response, endpoint, result.GetValue(Region) ?? Environment.GetEnvironmentVariable("AWS_REGION"), verbose);
    }

    /// <summary>The settings after environment fallbacks.</summary>
    internal sealed record Resolved(string Transport, string RequestQueue, string? ResponseQueue, string? EndpointUrl, string? Region, bool Verbose)
    {
        public Uri? ServerUrl { get; init; }

        public string? Secret { get; init; }

        public bool AllowUnsigned { get; init; }

        public WebhookSecurityOptions Security => new() { Secret = Secret, AllowUnsigned = AllowUnsigned };

        public IAmazonSQS CreateSqs() => AwsClientFactory.CreateSqs(EndpointUrl, Region);

        /// <summary>
        /// Makes a factory of client transports (one per session) for the chosen transport; the SQS client it may
        /// need is returned for the caller to dispose.
        /// </summary>
        public async Task<(Func<IClientTransport> Create, IDisposable? Owned)> ClientTransportsAsync(ILoggerFactory loggerFactory, CancellationToken cancellationToken)
        {
            switch (Transport)
            {
                case "webhook":
                    return (() => new WebhookClientTransport(new WebhookClientTransportOptions { ServerUrl = ServerUrl, Security = Security }, loggerFactory), null);
                case "hybrid":
                    return (() => new HybridClientTransport(new HybridClientTransportOptions { Endpoint = ServerUrl, Security = Security }, loggerFactory), null);
                default:
                    var sqs = CreateSqs();
                    try
                    {
                        var requestQueueUrl = await QueueUrlAsync(sqs, RequestQueue, cancellationToken).ConfigureAwait(false);
                        var responseQueueUrl = await QueueUrlAsync(sqs, ResponseQueue!, cancellationToken).ConfigureAwait(false);
                        return (() => new SqsClientTransport(sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }, loggerFactory), sqs);
                    }
                    catch
                    {
                        sqs.Dispose();
                        throw;
                    }
            }
        }

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
