using System.Text.Json.Nodes;

namespace AsyncMcp.Testing;

/// <summary>
/// The wire-level fake of asyncmcp's Python SQS / SNS+SQS servers (<c>tests/AsyncMcp.Aws.Tests/wire/asyncmcp-server.mjs</c>),
/// run on the emulator as its own Node process and stopped by its process id. It reports every message it received
/// and what it did with it.
/// </summary>
public sealed class AsyncmcpServerFake : IAsyncDisposable
{
    private const string ReceivedPrefix = "RECEIVED ";
    private readonly ChildProcess _process;

    private AsyncmcpServerFake(ChildProcess process, string release, string transport)
    {
        _process = process;
        Release = release;
        Transport = transport;
    }

    public static string Script => Path.Combine(RepositoryPaths.Root, "tests", "AsyncMcp.Aws.Tests", "wire", "asyncmcp-server.mjs");

    /// <summary><c>0.2.1</c> or <c>main</c>.</summary>
    public string Release { get; }

    /// <summary><c>sqs</c> or <c>sns-sqs</c>.</summary>
    public string Transport { get; }

    /// <summary>Everything the fake printed.</summary>
    public string Output => _process.Output;

    /// <summary>The messages received so far: <c>method</c>, <c>id</c>, <c>attributes</c>, <c>params</c>, <c>outcome</c>.</summary>
    public IReadOnlyList<JsonObject> Received =>
        [.. Output.Split('\n').Where(l => l.StartsWith(ReceivedPrefix, StringComparison.Ordinal)).Select(l => JsonNode.Parse(l[ReceivedPrefix.Length..])!.AsObject())];

    /// <summary>The warnings the Python server would have logged (validation warnings for unknown notifications, for example).</summary>
    public IReadOnlyList<string> Warnings => [.. Output.Split('\n').Where(l => l.StartsWith("WARNING", StringComparison.Ordinal)).Select(l => l.TrimEnd('\r'))];

    /// <summary>Starts the fake polling <paramref name="queueUrl"/> (the request queue, or for sns-sqs its queue subscribed to the server topic).</summary>
    public static async Task<AsyncmcpServerFake> StartAsync(string serviceUrl, string release, string transport, string queueUrl)
    {
        RepositoryPaths.EnsureInfrastructureInstalled();
        var process = ChildProcess.Start(
            RepositoryPaths.Node,
            ["--no-warnings", Script, "--release", release, "--transport", transport],
            RepositoryPaths.Infra,
            new Dictionary<string, string>
            {
                ["INFRA_DIR"] = RepositoryPaths.Infra,
                ["ENDPOINT"] = serviceUrl,
                ["REQUEST_QUEUE_URL"] = queueUrl,
            });
        try
        {
            await process.WaitForLineAsync(l => l == "READY", TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new AsyncmcpServerFake(process, release, transport);
    }

    /// <summary>Waits until the fake has received a message that matches.</summary>
    public async Task<JsonObject> WaitForReceivedAsync(Func<JsonObject, bool> match, TimeSpan timeout)
    {
        var line = await _process.WaitForLineAsync(
            l => l.StartsWith(ReceivedPrefix, StringComparison.Ordinal) && match(JsonNode.Parse(l[ReceivedPrefix.Length..])!.AsObject()),
            timeout).ConfigureAwait(false);
        return JsonNode.Parse(line[ReceivedPrefix.Length..])!.AsObject();
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
