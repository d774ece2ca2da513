using Amazon.SQS.Model;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// A server stopped while it closes a session its client asked to close (the client's close message in hand) still
/// settles that message: it is deleted, not left to come back after the visibility timeout to a server that no longer
/// knows the session.
/// </summary>
public sealed class SessionCloseAtShutdownTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task The_close_message_of_a_session_closing_as_the_server_stops_is_deleted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = TestMcpServer.CreateOptions();

        // A tool that takes a moment to stop once cancelled, as a bridged child process does: the session's close lasts that long.
        SlowToStopTool.AddTo(options, TimeSpan.FromSeconds(1.5), started, closing);
        var harness = await SqsHarness.StartAsync(fixture, serverOptions: options);
        try
        {
            var client = await harness.ConnectAsync(Protocols.November2025);
            var call = client.CallToolAsync(SlowToStopTool.Name, cancellationToken: TestContext.Current.CancellationToken).AsTask();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            // The client closes its session; while the server closes it, the server is stopped.
            await client.DisposeAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => call);
            await closing.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            await harness.Server.DisposeAsync();

            Assert.DoesNotContain(harness.Logs.Entries, e => e.Level >= LogLevel.Warning && e.Message.Contains("Broker operation", StringComparison.Ordinal));
            var attributes = await fixture.Sqs.GetQueueAttributesAsync(
                new GetQueueAttributesRequest { QueueUrl = harness.RequestQueueUrl, AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] },
                TestContext.Current.CancellationToken);
            Assert.Equal("0", attributes.Attributes["ApproximateNumberOfMessages"]);
            Assert.Equal("0", attributes.Attributes["ApproximateNumberOfMessagesNotVisible"]);
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }
}
