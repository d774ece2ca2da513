using ModelContextProtocol;

namespace AsyncMcp.Testing;

/// <summary>
/// A server a test started: what the test server's tools observed, the server's log, and what the test hands it to
/// dispose before the server stops (clients, peers, listeners). Disposing disposes those, last first, then stops the
/// server and releases what outlives it.
/// </summary>
public abstract class ServerHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly Lock _gate = new();
    private int _stopped;

    /// <param name="state">What the test server's tools observe.</param>
    /// <param name="logs">The server's log.</param>
    protected ServerHarness(TestServerState state, CollectingLoggerProvider logs)
    {
        State = state;
        Logs = logs;
    }

    /// <summary>What the test server's tools observed.</summary>
    public TestServerState State { get; }

    /// <summary>The server's log.</summary>
    public CollectingLoggerProvider Logs { get; }

    /// <summary>Whether the log has an entry containing <paramref name="fragment"/>.</summary>
    public bool Logged(string fragment) => Logs.Entries.Any(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Disposes <paramref name="disposable"/> with the harness, before the server stops.</summary>
    public T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        lock (_gate)
        {
            _owned.Add(disposable);
        }

        return disposable;
    }

    /// <summary>Stops the server as its host would, leaving its clients as they are. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            await StopServerAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        IAsyncDisposable[] owned;
        lock (_gate)
        {
            owned = [.. _owned];
            _owned.Clear();
        }

        try
        {
            for (var i = owned.Length - 1; i >= 0; i--)
            {
                try
                {
                    await owned[i].DisposeAsync();
                }
                catch (Exception ex) when (Volatile.Read(ref _stopped) != 0 && ex is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException or McpException)
                {
                    // A client whose server the test already stopped may fail to close; the rest must still be released.
                }
            }
        }
        finally
        {
            await StopAsync();
            await DisposeResourcesAsync();
        }
    }

    /// <summary>Stops the server.</summary>
    protected abstract Task StopServerAsync();

    /// <summary>Releases what outlives the server's stop (a web host, say), after it has stopped.</summary>
    protected virtual ValueTask DisposeResourcesAsync() => ValueTask.CompletedTask;
}
