using System.Text.Json.Nodes;

namespace AsyncMcp.Testing;

/// <summary>
/// A wire-level fake of a peer we cannot install (asyncmcp's Python servers), run as a Node script from a test
/// project's <c>wire/</c> folder. The script prints <c>{"listening": url}</c> once it listens and one JSON line per
/// thing it did (<c>{"request": {...}}</c>, <c>{"webhook": {...}}</c>, ...), which tests read as records. The process
/// is ended by its id when the fake is disposed.
/// </summary>
public sealed class WireFake : IAsyncDisposable
{
    private WireFake(ChildProcess process, string url)
    {
        Process = process;
        Url = url;
    }

    /// <summary>The address the fake printed (its endpoint).</summary>
    public string Url { get; }

    /// <summary>The Node process.</summary>
    public ChildProcess Process { get; }

    /// <summary>Starts <c>wire/&lt;script&gt;</c> from the test's output folder and waits until it listens.</summary>
    public static async Task<WireFake> StartAsync(string script, IDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["INFRA_DIR"] = RepositoryPaths.Infra };
        var process = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", script)], RepositoryPaths.Infra, variables);
        try
        {
            var line = await process.WaitForLineAsync(l => l.StartsWith("{\"listening\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return new WireFake(process, (string)JsonNode.Parse(line)!["listening"]!);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The records of one kind printed so far, oldest first.</summary>
    public IReadOnlyList<JsonNode> Records(string kind) =>
        [.. Process.Output.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith($"{{\"{kind}\":", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l)![kind]!)];

    /// <summary>Waits for a record of one kind that matches, failing when it does not come in time.</summary>
    public async Task<JsonNode> WaitForAsync(string kind, Func<JsonNode, bool> match, TimeSpan? timeout = null)
    {
        var line = await Process.WaitForLineAsync(
            l => l.StartsWith($"{{\"{kind}\":", StringComparison.Ordinal) && match(JsonNode.Parse(l)![kind]!),
            timeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return JsonNode.Parse(line)![kind]!;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
