using System.CommandLine;
using System.Text.RegularExpressions;
using Amazon.SQS;
using AsyncMcp.Aws;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using AsyncMcp.Aws.Sns;
using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace AsyncMcp.Cli.Commands;

/// <summary>The flags that say which transport to use and where its queues, topics or endpoints are, shared by every command.</summary>
internal static partial class TransportSettings
{
    public static readonly Option<string?> Transport = new("--transport")
    {
        Description = "The async transport: sqs (default), sns-sqs, webhook, or hybrid (Streamable HTTP with webhook delivery of chosen tools).",
        DefaultValueFactory = _ => "sqs",
    };

    public static readonly Option<string?> ServerUrl = new("--server-url")
    {
        Description = "webhook and hybrid: the server's endpoint (webhook: its /mcp/request URL; hybrid: its Streamable HTTP URL).",
    };

    public static readonly Option<string?> Listen = new("--listen")
    {
        Description = "serve --transport webhook or hybrid: the address to listen on, such as http://127.0.0.1:8080 (the endpoint is /mcp/request for webhook, /mcp for hybrid).",
    };

    public static readonly Option<string?> Secret = new("--secret")
    {
        Description = "webhook and hybrid: the shared Standard Webhooks secret (whsec_...).",
    };

    public static readonly Option<bool> AllowUnsigned = new("--allow-unsigned")
    {
        Description = "webhook and hybrid: accept unsigned messages (only for peers that cannot sign, such as the Python asyncmcp).",
    };

    public static readonly Option<bool> AllowLoopbackWebhooks = new("--allow-loopback-webhooks")
    {
        Description = "serve --transport webhook or hybrid: let clients name webhooks on loopback addresses (localhost, 127.0.0.1, ::1), for development and tests on one machine. Refused by default, against server-side request forgery.",
    };

    public static readonly Option<bool> AllowPrivateWebhooks = new("--allow-private-webhooks")
    {
        Description = "serve --transport webhook or hybrid: let clients name webhooks in private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7). Refused by default, against server-side request forgery.",
    };

    public static readonly Option<string?> RequestQueue = new("--request-queue")
    {
        Description = "sqs: the server's request queue: a queue URL, or a name (created if missing).",
    };

    public static readonly Option<string?> ResponseQueue = new("--response-queue")
    {
        Description = "sqs: the client's response queue: a queue URL, or a name (created if missing).",
    };

    public static readonly Option<string?> ServerTopic = new("--server-topic")
    {
        Description = "sns-sqs: the server's topic, where requests are published: a topic ARN, or a name (created if missing).",
    };

    public static readonly Option<string?> ServerQueue = new("--server-queue")
    {
        Description = "sns-sqs serve: the server's queue: a queue URL (used as it is, already subscribed), or a name (created if missing and subscribed to --server-topic).",
    };

    public static readonly Option<string?> ClientTopic = new("--client-topic")
    {
        Description = "sns-sqs clients: this client's topic, where the server publishes replies: a topic ARN, or a name (created if missing).",
    };

    public static readonly Option<string?> ClientQueue = new("--client-queue")
    {
        Description = "sns-sqs clients: this client's queue: a queue URL (used as it is, already subscribed), or a name (created if missing and subscribed to --client-topic).",
    };

    public static readonly Option<bool> RawDelivery = new("--raw-delivery")
    {
        Description = "sns-sqs: subscriptions this command creates deliver the bare message (true, default) or the SNS JSON envelope (--raw-delivery false); AsyncMcp reads both.",
        DefaultValueFactory = _ => true,
    };

    public static readonly Option<bool> InitializeOnly = new("--initialize-only")
    {
        Description = "Clients: the server knows only the initialize handshake (asyncmcp's Python servers): skip the server/discover probe and its 5 s wait.",
    };

    public static readonly Option<string?> EndpointUrl = new("--endpoint-url")
    {
        Description = "The SQS and SNS endpoint (a local emulator, say); unset for AWS.",
    };

    public static readonly Option<string?> DynamoDbEndpointUrl = new("--dynamodb-endpoint-url")
    {
        Description = "The DynamoDB endpoint of the task table (a local emulator, say); default --endpoint-url, unset for AWS.",
    };

    public static readonly Option<string?> Region = new("--region")
    {
        Description = "The AWS region (default us-east-1 with an endpoint).",
    };

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Log more (to standard error).",
    };

    public static void AddTo(Command command, bool client)
    {
        command.Options.Add(Transport);
        command.Options.Add(ServerUrl);
        command.Options.Add(Secret);
        command.Options.Add(AllowUnsigned);
        command.Options.Add(RequestQueue);
        if (client)
        {
            command.Options.Add(ResponseQueue);
        }

        command.Options.Add(ServerTopic);
        if (client)
        {
            command.Options.Add(ClientTopic);
            command.Options.Add(ClientQueue);
        }
        else
        {
            command.Options.Add(ServerQueue);
        }

        command.Options.Add(RawDelivery);
        if (client)
        {
            command.Options.Add(InitializeOnly);
        }

        command.Options.Add(EndpointUrl);
        command.Options.Add(Region);
        command.Options.Add(Verbose);
    }

    /// <summary>Reads the settings through <paramref name="settings"/> and checks them before anything connects.</summary>
    /// <exception cref="CliUsageException">A setting is missing or invalid; the message names it.</exception>
    public static Resolved Read(CliSettings settings, bool client)
    {
        var transport = (settings.Get(Transport) ?? "sqs").Trim().ToLowerInvariant();
        var verbose = settings.Get(Verbose);
        if (transport is "webhook" or "hybrid")
        {
            var secret = settings.Get(Secret);
            var allowUnsigned = settings.Get(AllowUnsigned);
            if (string.IsNullOrWhiteSpace(secret) && !allowUnsigned)
            {
                throw new CliUsageException($"--secret is required with --transport {transport} ({CliSettings.Alternatives(Secret)}; --allow-unsigned for peers that cannot sign); {CliMessages.MakeSecret}.");
            }

            if (!string.IsNullOrWhiteSpace(secret))
            {
                try
                {
                    WebhookSecret.Parse(secret, Secret.Name);
                }
                catch (ArgumentException)
                {
                    // The value is a secret: the message says where it came from, never what it is.
                    var origin = settings.Origin(Secret);
                    throw new CliUsageException($"--secret{(origin.Length == 0 ? string.Empty : $" ({origin.TrimStart()})")} must be a Standard Webhooks secret: 'whsec_' followed by the base64 of at least 16 random bytes; {CliMessages.MakeSecret}.");
                }
            }

            var serverText = settings.Get(ServerUrl);
            Uri.TryCreate(serverText, UriKind.Absolute, out var serverUrl);
            if (client && (serverUrl is null || (serverUrl.Scheme != Uri.UriSchemeHttp && serverUrl.Scheme != Uri.UriSchemeHttps)))
            {
                throw new CliUsageException($"--server-url is required with --transport {transport} and must be an absolute http(s) URL ({CliSettings.Alternatives(ServerUrl)}){Was(settings, ServerUrl, serverText)}.");
            }

            return new Resolved { Transport = transport, Verbose = verbose, ServerUrl = serverUrl, Secret = secret, AllowUnsigned = allowUnsigned };
        }

        var (endpoint, region) = ReadAws(settings);
        switch (transport)
        {
            case "sqs":
                var request = RequiredQueue(settings, RequestQueue, "sqs", "the server's request queue URL or name");
                var response = client ? RequiredQueue(settings, ResponseQueue, "sqs", "this client's own response queue URL or name") : null;
                return new Resolved { Transport = transport, Verbose = verbose, EndpointUrl = endpoint, Region = region, RequestQueue = request, ResponseQueue = response };

            case "sns-sqs":
                var raw = settings.Get(RawDelivery);
                if (client)
                {
                    var serverTopicArnOrName = RequiredTopic(settings, ServerTopic, "the server's topic ARN or name");
                    var clientTopic = RequiredTopic(settings, ClientTopic, "this client's own topic ARN or name");
                    var clientQueue = RequiredQueue(settings, ClientQueue, "sns-sqs", "this client's own queue URL or name");
                    CheckFifoPair(ClientTopic, clientTopic, ClientQueue, clientQueue);
                    return new Resolved
                    {
                        Transport = transport,
                        Verbose = verbose,
                        EndpointUrl = endpoint,
                        Region = region,
                        RawDelivery = raw,
                        ServerTopic = serverTopicArnOrName,
                        ClientTopic = clientTopic,
                        ClientQueue = clientQueue,
                    };
                }

                var serverQueue = RequiredQueue(settings, ServerQueue, "sns-sqs", "the server's queue URL or name");
                var serverTopic = OptionalTopic(settings, ServerTopic);
                if (serverTopic is null && !IsUrl(serverQueue))
                {
                    throw new CliUsageException($"--server-topic is required with --transport sns-sqs when --server-queue is a name, to subscribe the queue to it ({CliSettings.Alternatives(ServerTopic)}): the server's topic ARN or name.");
                }

                if (serverTopic is not null)
                {
                    CheckFifoPair(ServerTopic, serverTopic, ServerQueue, serverQueue);
                }

                return new Resolved { Transport = transport, Verbose = verbose, EndpointUrl = endpoint, Region = region, RawDelivery = raw, ServerTopic = serverTopic, ServerQueue = serverQueue };

            default:
                var origin = settings.Origin(Transport);
                throw new CliUsageException($"--transport '{transport}'{(origin.Length == 0 ? string.Empty : $" ({origin.TrimStart()})")} is not supported by this version of the command; use sqs, sns-sqs, webhook or hybrid.");
        }
    }

    /// <summary>The AWS endpoint and region, checked; <see langword="null"/> for the standard AWS configuration.</summary>
    /// <exception cref="CliUsageException">The endpoint is not an absolute http(s) URL.</exception>
    public static (string? EndpointUrl, string? Region) ReadAws(CliSettings settings)
    {
        var endpoint = settings.Get(EndpointUrl);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            endpoint = null;
        }
        else if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri) || (endpointUri.Scheme != Uri.UriSchemeHttp && endpointUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"--endpoint-url must be an absolute http(s) URL (was '{endpoint}'{settings.Origin(EndpointUrl)}).");
        }

        var region = settings.Get(Region);
        return (endpoint, string.IsNullOrWhiteSpace(region) ? null : region);
    }

    /// <summary>A queue this command creates and subscribes must be FIFO exactly when its topic is: SNS delivers a FIFO topic only to FIFO queues.</summary>
    /// <exception cref="CliUsageException">One is FIFO and the other is not.</exception>
    public static void CheckFifoPair(Option topicOption, string topic, Option queueOption, string queue)
    {
        if (IsUrl(queue))
        {
            return;
        }

        var fifoTopic = topic.EndsWith(".fifo", StringComparison.Ordinal);
        if (fifoTopic != queue.EndsWith(".fifo", StringComparison.Ordinal))
        {
            throw new CliUsageException(fifoTopic
                ? $"{queueOption.Name} '{queue}' must end in .fifo: {topicOption.Name} '{topic}' is a FIFO topic, which delivers only to FIFO queues."
                : $"{queueOption.Name} '{queue}' is a FIFO queue but {topicOption.Name} '{topic}' is not a FIFO topic; name both with .fifo or neither.");
        }
    }

    /// <summary>A queue flag's value checked: an http(s) URL, or a valid SQS queue name; <see langword="null"/> when unset.</summary>
    /// <exception cref="CliUsageException">The value is neither.</exception>
    public static string? OptionalQueue(CliSettings settings, Option<string?> option) => CheckQueue(settings, option, settings.Get(option));

    /// <summary>A topic flag's value checked: an SNS topic ARN, or a valid topic name; <see langword="null"/> when unset.</summary>
    /// <exception cref="CliUsageException">The value is neither.</exception>
    public static string? OptionalTopic(CliSettings settings, Option<string?> option)
    {
        var value = settings.Get(option);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (value.StartsWith("arn:", StringComparison.Ordinal))
        {
            return ReplyAddressConvention.SnsClientTopic.IsWellFormed(value)
                ? value
                : throw new CliUsageException($"{option.Name} must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:mcp-server, or a topic name (was '{value}'{settings.Origin(option)}).");
        }

        return TopicName().IsMatch(value)
            ? value
            : throw new CliUsageException($"{option.Name} must be a topic ARN or a topic name of 1 to 256 letters, digits, hyphens and underscores, optionally ending in .fifo (was '{value}'{settings.Origin(option)}).");
    }

    /// <summary>A queue flag's value checked against SQS's naming rules, when it is a name and not a URL.</summary>
    public static string? CheckQueue(CliSettings settings, Option option, string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || IsUrl(value))
        {
            return string.IsNullOrWhiteSpace(value) ? null : value;
        }

        return QueueName().IsMatch(value)
            ? value
            : throw new CliUsageException($"{option.Name} must be a queue URL or a queue name of 1 to 80 letters, digits, hyphens and underscores, optionally ending in .fifo (was '{value}'{settings.Origin(option)}).");
    }

    /// <summary>An SQS client for the endpoint and region (<see langword="null"/> for the standard AWS configuration).</summary>
    public static IAmazonSQS CreateSqs(string? endpointUrl, string? region) => AwsClientFactory.CreateSqs(endpointUrl, region);

    /// <summary>A DynamoDB client for the endpoint and region (<see langword="null"/> for the standard AWS configuration).</summary>
    public static Amazon.DynamoDBv2.IAmazonDynamoDB CreateDynamoDb(string? endpointUrl, string? region) => AwsClientFactory.CreateDynamoDb(endpointUrl, region);

    /// <summary>
    /// The DynamoDB endpoint: <c>--dynamodb-endpoint-url</c>, else <c>--endpoint-url</c> (one emulator may serve both);
    /// <see langword="null"/> for AWS.
    /// </summary>
    /// <exception cref="CliUsageException">The endpoint is not an absolute http(s) URL.</exception>
    public static string? ReadDynamoDbEndpoint(CliSettings settings, string? endpointUrl)
    {
        var endpoint = settings.Get(DynamoDbEndpointUrl);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return endpointUrl;
        }

        return Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? endpoint
            : throw new CliUsageException($"--dynamodb-endpoint-url must be an absolute http(s) URL (was '{endpoint}'{settings.Origin(DynamoDbEndpointUrl)}).");
    }

    /// <summary>An SNS client for the endpoint and region (<see langword="null"/> for the standard AWS configuration).</summary>
    public static SnsQueryClient CreateSns(string? endpointUrl, string? region) => new(new SnsQueryClientOptions { ServiceUrl = endpointUrl, Region = region });

    /// <summary>A topic ARN as given; for a name, CreateTopic, which returns the existing topic's ARN (SNS has no lookup by name).</summary>
    public static async Task<string> TopicArnAsync(SnsSqsProvisioner provisioner, string arnOrName, CancellationToken cancellationToken) =>
        arnOrName.StartsWith("arn:", StringComparison.Ordinal)
            ? arnOrName
            : await provisioner.EnsureTopicAsync(arnOrName, cancellationToken).ConfigureAwait(false);

    public static bool IsUrl(string value) =>
        value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static string RequiredQueue(CliSettings settings, Option<string?> option, string transport, string what) =>
        OptionalQueue(settings, option)
            ?? throw new CliUsageException($"{option.Name} is required{(transport == "sqs" ? string.Empty : $" with --transport {transport}")} ({CliSettings.Alternatives(option)}): {what}.");

    private static string RequiredTopic(CliSettings settings, Option<string?> option, string what) =>
        OptionalTopic(settings, option)
            ?? throw new CliUsageException($"{option.Name} is required with --transport sns-sqs ({CliSettings.Alternatives(option)}): {what}.");

    private static string Was(CliSettings settings, Option option, string? value) =>
        string.IsNullOrWhiteSpace(value) ? string.Empty : $" (was '{value}'{settings.Origin(option)})";

    [GeneratedRegex("^(?=.{1,80}$)[A-Za-z0-9_-]+(\\.fifo)?$")]
    private static partial Regex QueueName();

    [GeneratedRegex("^(?=.{1,256}$)[A-Za-z0-9_-]+(\\.fifo)?$")]
    private static partial Regex TopicName();

    /// <summary>The settings after every fallback, checked.</summary>
    internal sealed class Resolved
    {
        public required string Transport { get; init; }

        public bool Verbose { get; init; }

        public string? EndpointUrl { get; init; }

        public string? Region { get; init; }

        public string? RequestQueue { get; init; }

        public string? ResponseQueue { get; init; }

        public string? ServerTopic { get; init; }

        public string? ServerQueue { get; init; }

        public string? ClientTopic { get; init; }

        public string? ClientQueue { get; init; }

        public bool RawDelivery { get; init; } = true;

        public Uri? ServerUrl { get; init; }

        public string? Secret { get; init; }

        public bool AllowUnsigned { get; init; }

        public WebhookSecurityOptions Security => new() { Secret = Secret, AllowUnsigned = AllowUnsigned };

        public IAmazonSQS CreateSqs() => TransportSettings.CreateSqs(EndpointUrl, Region);

        public SnsQueryClient CreateSns() => TransportSettings.CreateSns(EndpointUrl, Region);

        /// <summary>Where a client of these settings finds its server, for messages: "request queue 'mcp-requests'".</summary>
        public string DescribeServer() => Transport switch
        {
            "sns-sqs" => $"server topic '{ServerTopic}'",
            "webhook" or "hybrid" => $"server URL '{ServerUrl}'",
            _ => $"request queue '{RequestQueue}'",
        };

        /// <summary>
        /// Makes a factory of client transports (one per session) for the chosen transport; the AWS clients it may
        /// need are returned for the caller to dispose. <paramref name="protocol"/> and <paramref name="clientId"/> (when
        /// given) configure the AsyncMcp transports.
        /// </summary>
        public async Task<(Func<IClientTransport> Create, IDisposable? Owned)> ClientTransportsAsync(ILoggerFactory loggerFactory, CancellationToken cancellationToken, ClientProtocol? protocol = null, string? clientId = null)
        {
            T Configured<T>(T options)
                where T : AsyncMcp.Client.AsyncMcpClientTransportOptions
            {
                protocol?.Configure(options);
                if (clientId is not null)
                {
                    options.ClientId = clientId;
                }

                return options;
            }

            switch (Transport)
            {
                case "webhook":
                    return (() => new WebhookClientTransport(Configured(new WebhookClientTransportOptions { ServerUrl = ServerUrl, Security = Security }), loggerFactory), null);
                case "hybrid":
                    return (() => new HybridClientTransport(new HybridClientTransportOptions { Endpoint = ServerUrl, Security = Security }, loggerFactory), null);
                case "sns-sqs":
                    var snsSqs = CreateSqs();
                    var sns = CreateSns();
                    var clients = new OwnedClients(snsSqs, sns);
                    try
                    {
                        var provisioner = new SnsSqsProvisioner(snsSqs, sns);
                        var serverTopicArn = await TopicArnAsync(provisioner, ServerTopic!, cancellationToken).ConfigureAwait(false);
                        var clientTopicArn = await TopicArnAsync(provisioner, ClientTopic!, cancellationToken).ConfigureAwait(false);
                        var clientQueueUrl = await SubscribedQueueUrlAsync(provisioner, clientTopicArn, ClientQueue!, cancellationToken, ReplyRetention).ConfigureAwait(false);
                        return (() => new SnsSqsClientTransport(snsSqs, sns, Configured(new SnsSqsClientTransportOptions { ServerTopicArn = serverTopicArn, ClientTopicArn = clientTopicArn, ClientQueueUrl = clientQueueUrl }), loggerFactory), clients);
                    }
                    catch
                    {
                        clients.Dispose();
                        throw;
                    }

                default:
                    var sqs = CreateSqs();
                    try
                    {
                        var requestQueueUrl = await QueueUrlAsync(sqs, RequestQueue!, cancellationToken).ConfigureAwait(false);
                        await RequireQueueAsync(sqs, requestQueueUrl, TransportSettings.RequestQueue, cancellationToken).ConfigureAwait(false);
                        var responseQueueUrl = await QueueUrlAsync(sqs, ResponseQueue!, cancellationToken, ReplyRetention).ConfigureAwait(false);
                        return (() => new SqsClientTransport(sqs, Configured(new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }), loggerFactory), sqs);
                    }
                    catch
                    {
                        sqs.Dispose();
                        throw;
                    }
            }
        }

        /// <summary>
        /// The server's queue URL as given (the topic is then not needed, nor touched), or the named queue created and
        /// subscribed to the server topic, with that topic's ARN.
        /// </summary>
        public async Task<(string QueueUrl, string? SubscribedTo)> ServerQueueAsync(IAmazonSQS sqs, ISnsClient sns, CancellationToken cancellationToken)
        {
            if (IsUrl(ServerQueue!))
            {
                return (ServerQueue!, null);
            }

            var provisioner = new SnsSqsProvisioner(sqs, sns);
            var topicArn = await TopicArnAsync(provisioner, ServerTopic!, cancellationToken).ConfigureAwait(false);
            return (await SubscribedQueueUrlAsync(provisioner, topicArn, ServerQueue!, cancellationToken).ConfigureAwait(false), topicArn);
        }

        /// <summary>
        /// Checks that a queue given by URL exists, so that a typo is reported with its flag at once rather than when the
        /// first message is sent (the client transport checks only its own reply queue).
        /// </summary>
        /// <exception cref="CliFailureException">The queue does not exist.</exception>
        public static async Task RequireQueueAsync(IAmazonSQS sqs, string queueUrl, Option option, CancellationToken cancellationToken)
        {
            try
            {
                await sqs.GetQueueAttributesAsync(new Amazon.SQS.Model.GetQueueAttributesRequest { QueueUrl = queueUrl, AttributeNames = ["QueueArn"] }, cancellationToken).ConfigureAwait(false);
            }
            catch (Amazon.SQS.Model.QueueDoesNotExistException ex)
            {
                throw new CliFailureException($"{option.Name} '{queueUrl}' does not exist: give the URL of an existing queue, or a queue name to create it.", ex);
            }
        }

        /// <summary>
        /// How long a reply queue the command creates keeps a message: a reply nobody claims within the hour (its client
        /// gone) is of no use to anyone, and SQS's default of 4 days would only let such replies pile up.
        /// </summary>
        internal static readonly TimeSpan ReplyRetention = TimeSpan.FromHours(1);

        /// <summary>A queue URL as given, or the URL of the named queue (created with default settings, or the given retention, only if missing).</summary>
        public static async Task<string> QueueUrlAsync(IAmazonSQS sqs, string urlOrName, CancellationToken cancellationToken, TimeSpan? retention = null)
        {
            if (IsUrl(urlOrName))
            {
                return urlOrName;
            }

            // An existing queue is used as it is: SQS refuses to create it again with other attributes than it has.
            var queue = await new SqsQueueProvisioner(sqs).EnsureQueueAsync(urlOrName, Settings(retention), cancellationToken).ConfigureAwait(false);
            return queue.QueueUrl;
        }

        private static SqsQueueSettings Settings(TimeSpan? retention) =>
            retention is { } r ? new SqsQueueSettings { KeepExisting = true, MessageRetention = r } : new SqsQueueSettings { KeepExisting = true };

        // A queue URL as given (assumed subscribed already: its policy is not touched); for a name, the queue created
        // if missing, with a policy letting the topic deliver to it, and subscribed.
        private async Task<string> SubscribedQueueUrlAsync(SnsSqsProvisioner provisioner, string topicArn, string urlOrName, CancellationToken cancellationToken, TimeSpan? retention = null)
        {
            if (IsUrl(urlOrName))
            {
                return urlOrName;
            }

            var subscription = await provisioner
                .EnsureSubscribedQueueAsync(topicArn, urlOrName, new SnsSqsSubscriptionSettings { RawMessageDelivery = RawDelivery, Queue = Settings(retention) }, cancellationToken)
                .ConfigureAwait(false);
            return subscription.Queue.QueueUrl;
        }
    }

    /// <summary>The AWS clients a command made, disposed together.</summary>
    private sealed class OwnedClients(params IDisposable[] clients) : IDisposable
    {
        public void Dispose()
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}

/// <summary>Bad flags or configuration: reported as one line naming the option, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
