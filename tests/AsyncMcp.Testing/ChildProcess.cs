using System.Diagnostics;
using System.Text;

namespace AsyncMcp.Testing;

/// <summary>A child process started by a test, stopped by its process id, with its output captured.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _standardOutput = new();
    private readonly StringBuilder _standardError = new();
    private readonly object _gate = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    private ChildProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What the process wrote to standard output only.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _standardOutput.ToString();
            }
        }
    }

    /// <summary>What the process wrote to standard error only.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _standardError.ToString();
            }
        }
    }

    /// <summary>
    /// Starts a Node script of the test project's <c>wire/</c> folder (a faithful peer of another implementation) on
    /// the project's Node, with <c>INFRA_DIR</c> naming the npm packages it imports.
    /// </summary>
    /// <param name="script">The script's file name, such as <c>asyncmcp-webhook-client.mjs</c>.</param>
    /// <param name="environment">More environment variables for the script.</param>
    public static ChildProcess StartWireScript(string script, IDictionary<string, string>? environment = null)
    {
        var all = new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["INFRA_DIR"] = RepositoryPaths.Infra };
        return Start(RepositoryPaths.Node, ["--no-warnings", Path.Combine(AppContext.BaseDirectory, "wire", script)], RepositoryPaths.Infra, all);
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var pair in environment)
            {
                info.Environment[pair.Key] = pair.Value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._standardOutput);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._standardError);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for an output line that matches, failing early if the process exits.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (match(line.TrimEnd('\r')))
                {
                    return line.TrimEnd('\r');
                }
            }

            _waiters.Add((match, found));
        }

        var exited = _process.WaitForExitAsync();
        var winner = await Task.WhenAny(found.Task, exited, Task.Delay(timeout)).ConfigureAwait(false);
        // A line printed just before the process exits completes the wait first, but its continuations run
        // asynchronously, so the exit can win the race to WhenAny: a found line always counts.
        if (winner == found.Task || found.Task.IsCompletedSuccessfully)
        {
            return await found.Task.ConfigureAwait(false);
        }

        var reason = winner == exited ? $"exited with code {_process.ExitCode}" : $"did not print the expected line within {timeout}";
        throw new InvalidOperationException($"Process {_process.StartInfo.FileName} {reason}. Output:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Asks the process to stop (SIGTERM), by its process id, as an orchestrator does at scale-in or deploy.</summary>
    public Task TerminateAsync(CancellationToken cancellationToken = default) => SignalAsync("TERM", cancellationToken);

    /// <summary>Sends the process a signal by name (TERM, STOP, CONT), by its process id.</summary>
    public async Task SignalAsync(string signal, CancellationToken cancellationToken = default)
    {
        using var kill = Process.Start("kill", [$"-{signal}", ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the process at once (SIGKILL), by its process id.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _process.Dispose();
    }

    private void OnLine(string? line, StringBuilder stream)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
            stream.AppendLine(line);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    _waiters[i].Found.TrySetResult(line);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
