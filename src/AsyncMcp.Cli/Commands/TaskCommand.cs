using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>asyncmcp task get|wait|cancel ID</c>: follows a task of the Tasks extension (started by <c>call --task</c>, or by
/// any client) from any process, given its id: reads its state, waits for its result, or asks the server to cancel it.
/// </summary>
internal static partial class TaskCommand
{
    public static Command Create()
    {
        var task = new Command("task", "Follow a task of the Tasks extension (io.modelcontextprotocol/tasks) by its id, from any process: get its state, wait for its result, or cancel it. Takes the transport flags of 'call'.")
        {
            Get(),
            Wait(),
            Cancel(),
        };
        return task;
    }

    private static Command Get()
    {
        var id = IdArgument();
        var json = new Option<bool>("--json") { Description = "Print the task's whole state (tasks/get) as JSON." };
        var timeout = TimeoutOption("Seconds to wait for the server (to connect, then for the answer); 0 waits for ever.");
        var get = new Command("get", "Print a task's status, status message and, when it ended, its outcome.") { id, json, timeout };
        return Configure(get, id, timeout, async (session, taskId, cli, cancellationToken) =>
        {
            var state = await session.Client.GetTaskAsync(taskId, session.AnswerToken).ConfigureAwait(false);
            if (cli.Get(json))
            {
                Console.WriteLine(JsonSerializer.SerializeToNode(state, McpTasksJsonContext.Default.DetailedTask)!.ToJsonString());
                return CliRuntime.Ok;
            }

            Console.WriteLine($"task {state.TaskId}: {CallOutput.StatusName(state.Status)}");
            if (state.StatusMessage is { } message)
            {
                Console.WriteLine($"message: {message}");
            }

            Console.WriteLine($"created: {state.CreatedAt.ToString("O", CultureInfo.InvariantCulture)}; last updated: {state.LastUpdatedAt.ToString("O", CultureInfo.InvariantCulture)}");
            if (state.Error is { } error)
            {
                Console.WriteLine($"error: {error.Code}: {error.Message}");
            }

            if (state.InputRequests is { Count: > 0 } requests)
            {
                Console.WriteLine($"waiting for input: {string.Join(", ", requests.Keys)}");
            }

            if (state.Status == McpTaskStatus.Completed)
            {
                Console.WriteLine("result ready: asyncmcp task wait " + state.TaskId);
            }

            return CliRuntime.Ok;
        });
    }

    private static Command Wait()
    {
        var id = IdArgument();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on standard output (for scripts) instead of text and a progress bar." };
        var timeout = TimeoutOption("Seconds to wait for the server (to connect, then for the task to change: a new status or status message restarts the wait); 0 waits for ever. The task keeps running when the wait ends.");
        var wait = new Command("wait", "Wait for a task to end, showing its progress, then print its result as 'call' prints one (exit code 1 when it failed, was cancelled, or the tool reported an error).") { id, json, timeout };
        return Configure(wait, id, timeout, async (session, taskId, cli, cancellationToken) =>
        {
            var asJson = cli.Get(json);
            var progress = new CallProgress(session.RestartWait);
            var shown = new StateProgress(state =>
            {
                session.RestartWait();
                ShowState(progress, state);
            });
            var waitOptions = new McpTaskWaitOptions { ResolveInputRequests = false, Timeout = null };
            CallToolResult result;
            try
            {
                result = await CallOutput.WithProgressAsync(
                    asJson,
                    progress,
                    taskId,
                    async () => await session.Client.WaitForTaskAsync(taskId, shown, waitOptions, session.AnswerToken).ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (McpTaskFailedException ex)
            {
                throw new CliFailureException($"task {taskId} failed: error {ex.Error.Code}: {ex.Error.Message}{(ex.StatusMessage is { } m && m != ex.Error.Message ? $" ({m})" : string.Empty)}", ex);
            }
            catch (McpTaskCancelledException ex)
            {
                throw new CliFailureException($"task {taskId} was cancelled{(ex.StatusMessage is { } m ? $": {m}" : string.Empty)}.", ex);
            }
            catch (OperationCanceledException ex) when (session.TimedOut(cancellationToken))
            {
                throw new CliFailureException($"task {taskId} did not change within {session.Seconds} s; it keeps running: 'asyncmcp task wait {taskId}' waits again (--timeout waits longer).", ex);
            }

            return CallOutput.Print(result, asJson);
        });
    }

    private static Command Cancel()
    {
        var id = IdArgument();
        var timeout = TimeoutOption("Seconds to wait for the server (to connect, then for the answer); 0 waits for ever.");
        var cancel = new Command("cancel", "Ask the server to cancel a task. Cancelling is cooperative: 'task get' shows when it ended; a task that already ended is left as it is.") { id, timeout };
        return Configure(cancel, id, timeout, async (session, taskId, cli, cancellationToken) =>
        {
            await session.Client.CancelTaskAsync(taskId, session.AnswerToken).ConfigureAwait(false);
            Console.WriteLine($"task {taskId}: cancel requested");
            return CliRuntime.Ok;
        });
    }

    /// <summary>The transport flags, the client id, the connection and the errors every task command shares.</summary>
    private static Command Configure(Command command, Argument<string> id, Option<int> timeout, Func<ClientConnection, string, CliSettings, CancellationToken, Task<int>> run)
    {
        command.Options.Add(ClientConnection.ClientId);
        TransportSettings.AddTo(command, client: true);
        command.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: true);
            var taskId = result.GetValue(id)?.Trim();
            if (string.IsNullOrEmpty(taskId))
            {
                throw new CliUsageException("give the task's id (printed by 'asyncmcp call --task').");
            }

            var seconds = ClientConnection.ReadTimeout(cli, timeout);
            var protocol = ClientProtocol.ForTasks(cli);
            await using var session = await ClientConnection.ConnectAsync(settings, protocol, seconds, ClientConnection.ReadClientId(cli), [], cancellationToken).ConfigureAwait(false);
            if (!McpTasks.IsDefinedFor(session.Client.NegotiatedProtocolVersion))
            {
                throw new CliFailureException($"the server on the {session.Server} speaks protocol revision {session.Client.NegotiatedProtocolVersion}, which has no tasks (the Tasks extension needs {McpTasks.MinimumProtocolVersion}).");
            }

            try
            {
                return await run(session, taskId, cli, cancellationToken).ConfigureAwait(false);
            }
            catch (McpProtocolException ex) when (ex.ErrorCode == McpTasks.UnknownTaskErrorCode)
            {
                throw new CliFailureException($"the server on the {session.Server} has no task '{taskId}': the id is wrong, the task expired, or it was started under another --client-id ({ex.Message}).", ex);
            }
            catch (McpProtocolException ex) when (ex.ErrorCode is McpErrorCode.MethodNotFound or McpTasks.MissingCapabilityErrorCode)
            {
                throw new CliFailureException($"the server on the {session.Server} does not offer the Tasks extension ({McpTasks.ExtensionId}): {ex.Message}", ex);
            }
            catch (OperationCanceledException ex) when (session.TimedOut(cancellationToken))
            {
                throw new CliFailureException($"the server on the {session.Server} did not answer {command.Name} for task {taskId} within {seconds} s (--timeout waits longer).", ex);
            }
        }));
        return command;
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The task's id (printed by 'asyncmcp call --task')." };

    private static Option<int> TimeoutOption(string description) => new("--timeout") { Description = description, DefaultValueFactory = _ => 60 };

    /// <summary>A task's status message on the bar: "3/10" (as the server writes a tool's progress) moves it, anything else is shown as text.</summary>
    private static void ShowState(CallProgress progress, DetailedTask state)
    {
        var message = state.Status == McpTaskStatus.InputRequired
            ? "waiting for input" + (state.InputRequests is { Count: > 0 } r ? $" ({string.Join(", ", r.Keys)})" : string.Empty)
            : state.StatusMessage;
        if (message is not null && Fraction().Match(message) is { Success: true } fraction)
        {
            progress.Report(
                double.Parse(fraction.Groups["done"].Value, CultureInfo.InvariantCulture),
                double.Parse(fraction.Groups["total"].Value, CultureInfo.InvariantCulture),
                null);
        }
        else
        {
            progress.ReportMessage(message ?? CallOutput.StatusName(state.Status));
        }
    }

    [GeneratedRegex(@"^\s*(?<done>\d+(\.\d+)?)\s*/\s*(?<total>\d+(\.\d+)?)\s*$")]
    private static partial Regex Fraction();

    /// <summary>Reports each state on the polling thread, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class StateProgress(Action<DetailedTask> report) : IProgress<DetailedTask>
    {
        public void Report(DetailedTask value) => report(value);
    }
}
