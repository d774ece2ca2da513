using System.Globalization;
using Amazon.DynamoDBv2;

namespace AsyncMcp.Testing;

/// <summary>
/// The dynalite DynamoDB emulator, run from the project's own npm install on Node 22 through
/// <c>infra/dynalite-loopback.mjs</c> (which binds it to 127.0.0.1 and adds DynamoDB's TTL settings API), on a free
/// port, stopped by its process id. In memory: every start is empty.
/// </summary>
public sealed class DynaliteEmulator : IAsyncDisposable
{
    private const string ReadyPrefix = "DYNALITE_READY ";

    private readonly ChildProcess _process;

    private DynaliteEmulator(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.ProcessId;

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Starts the emulator on a free port and waits (up to 60 s) for its ready line.</summary>
    public static async Task<DynaliteEmulator> StartAsync()
    {
        RepositoryPaths.EnsureInfrastructureInstalled();
        var process = ChildProcess.Start(RepositoryPaths.Node, ["--no-warnings", "dynalite-loopback.mjs", "--port", "0"], RepositoryPaths.Infra);
        try
        {
            var ready = await process.WaitForLineAsync(line => line.StartsWith(ReadyPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return new DynaliteEmulator(process, int.Parse(ready[ReadyPrefix.Length..].Trim(), CultureInfo.InvariantCulture));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A DynamoDB client for the emulator (it checks that requests are signed, not the keys).</summary>
    public IAmazonDynamoDB CreateClient() => CreateClient(ServiceUrl);

    /// <summary>A DynamoDB client for an emulator at <paramref name="serviceUrl"/> (a test host in another process, say).</summary>
    public static IAmazonDynamoDB CreateClient(string serviceUrl) => new AmazonDynamoDBClient(FauxqsEmulator.Credentials, new AmazonDynamoDBConfig
    {
        ServiceURL = serviceUrl,
        AuthenticationRegion = FauxqsEmulator.Region,
        MaxErrorRetry = 2,
    });

    /// <summary>A table name no other test uses.</summary>
    public static string UniqueTableName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public async ValueTask DisposeAsync() => await _process.DisposeAsync().ConfigureAwait(false);
}
