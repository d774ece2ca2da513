using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AsyncMcp.Tasks;

/// <summary>
/// Turns a running task's requests to the client (elicitation, sampling, roots) into the extension's
/// <c>input_required</c>: each request is recorded under a key (<c>input-1</c>, <c>input-2</c>, … in the order the run
/// asks), and the run waits until a <c>tasks/update</c>, on any worker, recorded the answer.
/// </summary>
/// <remarks>
/// A run of the same task on another worker asks again under the same keys, so answers given to an earlier run are used
/// again rather than asked twice.
/// </remarks>
internal sealed class TaskInputs(ITaskStore store, string taskId, TaskSignal signal, TimeSpan pollInterval)
{
    private int _asked;

    public async ValueTask<JsonElement> AskAsync(string method, JsonElement parameters, CancellationToken cancellationToken)
    {
        var key = "input-" + Interlocked.Increment(ref _asked).ToString(CultureInfo.InvariantCulture);
        var record = await store.GetAsync(taskId, cancellationToken).ConfigureAwait(false) ?? throw Gone();
        if (record.InputResponses.TryGetValue(key, out var earlier))
        {
            return earlier;
        }

        if (!record.InputRequests.ContainsKey(key))
        {
            var request = new JsonObject { ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters, McpTasksJsonContext.Default.JsonElement) };
            var written = await store.AddInputRequestsAsync(
                taskId,
                new Dictionary<string, JsonElement>(StringComparer.Ordinal) { [key] = JsonSerializer.SerializeToElement(request, McpTasksJsonContext.Default.JsonObject) },
                cancellationToken).ConfigureAwait(false);
            if (written.Outcome is TaskWriteOutcome.NotFound or TaskWriteOutcome.Terminal)
            {
                throw Gone();
            }
        }

        // Still outstanding: from this run, or from an earlier run of the task that asked the same.
        while (true)
        {
            await signal.WaitAsync(pollInterval, cancellationToken).ConfigureAwait(false);
            record = await store.GetAsync(taskId, cancellationToken).ConfigureAwait(false);
            if (record is null || record.Status.IsTerminal())
            {
                throw Gone();
            }

            if (record.InputResponses.TryGetValue(key, out var answer))
            {
                return answer;
            }
        }
    }

    private OperationCanceledException Gone() => new($"Task {taskId} ended or expired while it waited for input.");
}
