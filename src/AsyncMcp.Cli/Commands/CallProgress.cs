using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Spectre.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// The progress of one <c>call</c>: read from a <c>notifications/progress</c> handler registered with the client (an
/// <see cref="IProgress{T}"/> given to the call is unregistered when the call returns, so a last notice handled after
/// the result is lost, and <see cref="Progress{T}"/> reports on the thread pool, out of order). The SDK handles each
/// notice on its own work item, so they may arrive in any order: the bar only ever moves forward, and shows completion
/// when the call completes. Every notice also restarts the wait for the answer (<c>--timeout</c>).
/// </summary>
internal sealed class CallProgress
{
    private readonly object _gate = new();
    private readonly Action _onNotice;
    private ProgressTask? _bar;
    private TextWriter? _lines;
    private string? _lastLine;
    private string _tool = string.Empty;
    private double _progress = double.NegativeInfinity;
    private double? _total;
    private string? _message;
    private bool _completed;

    /// <param name="onNotice">Called for each notice of this call (it restarts the wait for the answer).</param>
    public CallProgress(Action onNotice)
    {
        _onNotice = onNotice;
    }

    /// <summary>The token that ties the server's notices to this call.</summary>
    public ProgressToken Token { get; } = new(Guid.NewGuid().ToString("N"));

    /// <summary>The handler to register in <see cref="McpClientOptions.Handlers"/>.</summary>
    public KeyValuePair<string, Func<JsonRpcNotification, CancellationToken, ValueTask>> Handler =>
        new(NotificationMethods.ProgressNotification, (notification, _) =>
        {
            OnNotification(notification);
            return ValueTask.CompletedTask;
        });

    /// <summary>Shows the progress on <paramref name="bar"/> from now on, including what arrived before it existed.</summary>
    public void Attach(ProgressTask bar, string tool)
    {
        lock (_gate)
        {
            _bar = bar;
            _tool = tool;
            Render();
        }
    }

    /// <summary>
    /// Writes the progress as lines (<c>tool: 40% message</c>) to <paramref name="writer"/>, for output that is not a
    /// terminal: Spectre.Console's fallback there prints only some milestones, and never a finished task.
    /// </summary>
    public void AttachLines(TextWriter writer, string tool)
    {
        lock (_gate)
        {
            _lines = writer;
            _tool = tool;
            Render();
        }
    }

    /// <summary>Shows a message without a number (a task's status message that is not "3/10").</summary>
    public void ReportMessage(string message)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _progress = Math.Max(_progress, 0);
            _message = message;
            Render();
        }
    }

    /// <summary>The call completed: the bar shows it done, whatever notices are still on their way.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            if (_bar is { } bar)
            {
                bar.IsIndeterminate = false;
                bar.Value = bar.MaxValue;
                bar.Description = Markup.Escape(_tool);
                bar.StopTask();
            }

            WriteLine($"{_tool}: 100%");
        }
    }

    private void OnNotification(JsonRpcNotification notification)
    {
        ProgressNotificationParams? notice;
        try
        {
            notice = notification.Params.Deserialize<ProgressNotificationParams>(McpJsonUtilities.DefaultOptions);
        }
        catch (JsonException)
        {
            return;
        }

        if (notice is null || notice.ProgressToken != Token)
        {
            return;
        }

        _onNotice();
        Report(notice.Progress.Progress, notice.Progress.Total, notice.Progress.Message);
    }

    /// <summary>
    /// Shows a progress state read some other way (a task's status message, by <c>task wait</c>); a state older than the
    /// one shown is ignored.
    /// </summary>
    public void Report(double progress, double? total, string? message)
    {
        lock (_gate)
        {
            // Notices are handled concurrently: a late one never moves the bar back.
            if (_completed || progress < _progress)
            {
                return;
            }

            _progress = progress;
            _total = total ?? _total;
            _message = message ?? _message;
            Render();
        }
    }

    private void Render()
    {
        if (double.IsNegativeInfinity(_progress))
        {
            return;
        }

        if (_lines is not null)
        {
            var amount = _total is { } whole && whole > 0
                ? $"{(int)Math.Floor(100 * Math.Min(_progress, whole) / whole)}%"
                : _progress.ToString(System.Globalization.CultureInfo.InvariantCulture);
            WriteLine(_message is null ? $"{_tool}: {amount}" : $"{_tool}: {amount} {_message}");
        }

        if (_bar is not { } bar)
        {
            return;
        }

        if (_total is { } total && total > 0)
        {
            bar.IsIndeterminate = false;
            bar.MaxValue = total;
            bar.Value = Math.Min(_progress, total);
        }
        else
        {
            bar.IsIndeterminate = true;
        }

        bar.Description = Markup.Escape(_message is null ? _tool : $"{_tool}: {_message}");
    }

    /// <summary>Writes a progress line unless it would repeat the last one.</summary>
    private void WriteLine(string line)
    {
        if (_lines is null || line == _lastLine)
        {
            return;
        }

        _lastLine = line;
        _lines.WriteLine(line);
    }
}
