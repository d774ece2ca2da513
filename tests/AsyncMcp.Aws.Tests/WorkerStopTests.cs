using System.Text.Json.Nodes;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A worker that stops keeps no long poll on its own queue behind: a message of one of its sessions that reaches that
/// queue after it stopped receiving (while its sessions close) is answered by the sweep as a lost session, instead of
/// being taken by an abandoned poll, left invisible past the sweep's deadline and deleted with the queue unanswered.
/// </summary>
public sealed class WorkerStopTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task A_request_that_reaches_a_stopping_workers_queue_after_it_stopped_receiving_is_answered_as_a_lost_session()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = TestMcpServer.CreateOptions();

        // Slow to stop once cancelled, as a bridged child process is: the worker's sessions take that long to close,
        // after it has stopped receiving from its own queue and before it sweeps that queue.
        SlowToStopTool.AddTo(options, TimeSpan.FromSeconds(2), started);
        var logs = new CollectingLoggerProvider(LogLevel.Debug);
        var requestQueueUrl = await fixture.CreateQueueAsync("stop-req");
        var server = new SqsServerTransport(
            fixture.Sqs,
            new SqsServerTransportOptions { RequestQueueUrl = requestQueueUrl, ShutdownDrainTimeout = TimeSpan.FromSeconds(1) },
            options,
            logs.ToLoggerFactory());
        await server.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var workerQueueUrl = WorkerNames.WorkerQueueUrl(requestQueueUrl, server.WorkerId!);
            var peer = new RawSqsPeer(fixture.Sqs, workerQueueUrl, await fixture.CreateQueueAsync("stop-resp"));
            var sessionId = await peer.InitializeAsync();
            Dictionary<string, string> session = new() { ["SessionId"] = sessionId, ["Method"] = "tools/call" };
            await peer.SendAsync(ToolCall(peer, 2, SlowToStopTool.Name), session);
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            var stopping = server.DisposeAsync().AsTask();
            await Eventually(
                () => logs.Entries.Any(e => e.Message == $"Stopped receiving from {workerQueueUrl}."),
                TimeSpan.FromSeconds(30),
                "the worker to stop receiving from its own queue");
            await peer.SendAsync(ToolCall(peer, 3, "echo", new JsonObject { ["message"] = "late" }), session);

            var late = RawSqsPeer.Body(await peer.ReceiveMessageAsync(m => (int?)RawSqsPeer.Body(m)["id"] == 3, timeoutSeconds: 20));

            Assert.Equal("session_lost", (string?)late["error"]?["data"]?["reason"]);
            await stopping.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            // Nothing left invisible past the sweep's deadline; the queue the sweep deleted is not deleted again.
            Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Category is "AsyncMcp.Aws.Sqs.SqsBackedServer" or "AsyncMcp.Aws.Sqs.WorkerQueue");
            Assert.Contains(logs.Entries, e => e.Message == $"Own queue {workerQueueUrl} deleted.");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>A session's <c>tools/call</c> as asyncmcp's clients send it: naming the reply queue in its <c>_meta</c>.</summary>
    private static string ToolCall(RawSqsPeer peer, int id, string tool, JsonObject? arguments = null) =>
        peer.NameReplyAddress(new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = arguments ?? new JsonObject() },
        }).ToJsonString();
}
