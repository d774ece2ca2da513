using System.Collections.Concurrent;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.SQS;

namespace AsyncMcp.Testing;

/// <summary>
/// Counts the AWS API requests that really go over the wire (SDK retries included, as AWS bills them), by operation,
/// at the HTTP layer of the clients it creates: the AWS SDK's SQS client through its <see cref="HttpClientFactory"/>
/// hook (the operation is the <c>X-Amz-Target</c> header of the JSON protocol), and any client given its
/// <see cref="CreateHttpClient"/> (the SNS Query client: the operation is the form's <c>Action</c>). Optionally keeps
/// the number of entries of each batch request.
/// </summary>
public sealed class AwsRequestCounter : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<HttpClient> _clients = [];
    private readonly ConcurrentQueue<(string Operation, int Entries)> _batches = new();
    private Hold? _hold;

    /// <summary>
    /// When set, told of every request as it goes out (with no response) and again when its response is back: its operation
    /// and its response. For timelines of a call; it runs on the request's path, so it must be quick.
    /// </summary>
    public Action<string, HttpResponseMessage?>? Observer { get; set; }

    /// <summary>Whether to keep the entry count of every batch request (read from its body).</summary>
    public bool RecordBatches { get; init; }

    /// <summary>An SQS client for the emulator whose requests this counter counts.</summary>
    public IAmazonSQS CreateSqsClient(string serviceUrl) => new AmazonSQSClient(FauxqsEmulator.Credentials, new AmazonSQSConfig
    {
        ServiceURL = serviceUrl,
        AuthenticationRegion = FauxqsEmulator.Region,
        MaxErrorRetry = 2,
        HttpClientFactory = new CountingFactory(this),
    });

    /// <summary>An HTTP client whose requests this counter counts.</summary>
    public HttpClient CreateHttpClient()
    {
        var client = new HttpClient(new CountingHandler(this, new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(30) };
        _clients.Add(client);
        return client;
    }

    /// <summary>Closes the connections of every client this counter created (the SNS Query client does not own the one it is given).</summary>
    public void Dispose()
    {
        while (_clients.TryTake(out var client))
        {
            client.Dispose();
        }
    }

    /// <summary>The requests counted so far, by operation.</summary>
    public Dictionary<string, long> Snapshot() => new(_counts, StringComparer.Ordinal);

    /// <summary>The entry counts of the batch requests kept so far, in the order they were made.</summary>
    public IReadOnlyList<(string Operation, int Entries)> Batches => [.. _batches];

    /// <summary>
    /// Holds the next request of <paramref name="operation"/> before it goes out, until <paramref name="release"/>
    /// completes: while it is held, what the code under test does meanwhile waits behind it (as behind a slow broker).
    /// </summary>
    /// <returns>A task that completes once the request is being held.</returns>
    public Task HoldNext(string operation, Task release)
    {
        var hold = new Hold(operation, release);
        _hold = hold;
        return hold.Reached.Task;
    }

    /// <summary>The counts from <paramref name="later"/> less those of <paramref name="earlier"/>.</summary>
    public static Dictionary<string, long> Difference(Dictionary<string, long> later, Dictionary<string, long> earlier) =>
        later.ToDictionary(p => p.Key, p => p.Value - earlier.GetValueOrDefault(p.Key), StringComparer.Ordinal)
            .Where(p => p.Value != 0)
            .ToDictionary(StringComparer.Ordinal);

    private async Task<string> CountAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string? operation = null;
        if (request.Headers.TryGetValues("X-Amz-Target", out var targets) && targets.FirstOrDefault() is { } target)
        {
            operation = target[(target.LastIndexOf('.') + 1)..];
        }
        else if (request.Content is not null && request.Content.Headers.ContentType?.MediaType == "application/x-www-form-urlencoded")
        {
            var form = await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            foreach (var pair in form.Split('&'))
            {
                if (pair.StartsWith("Action=", StringComparison.Ordinal))
                {
                    operation = Uri.UnescapeDataString(pair["Action=".Length..]);
                    break;
                }
            }
        }

        operation ??= request.Method + " " + request.RequestUri?.AbsolutePath;
        _counts.AddOrUpdate(operation, 1, static (_, n) => n + 1);
        if (_hold is { } hold && hold.Operation == operation && Interlocked.CompareExchange(ref _hold, null, hold) == hold)
        {
            hold.Reached.TrySetResult();
            await hold.Release.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (RecordBatches && operation.EndsWith("Batch", StringComparison.Ordinal) && request.Content is not null)
        {
            var body = await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.StartsWith('{'))
            {
                using var json = JsonDocument.Parse(body);
                _batches.Enqueue((operation, json.RootElement.TryGetProperty("Entries", out var entries) ? entries.GetArrayLength() : 0));
            }
        }

        return operation;
    }

    private sealed record Hold(string Operation, Task Release)
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class CountingHandler(AwsRequestCounter counter, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var operation = await counter.CountAsync(request, cancellationToken).ConfigureAwait(false);
            if (counter.Observer is not { } observer)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            observer(operation, null);
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            observer(operation, response);
            return response;
        }
    }

    private sealed class CountingFactory(AwsRequestCounter counter) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => counter.CreateHttpClient();
    }
}
