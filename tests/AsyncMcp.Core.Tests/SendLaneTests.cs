using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>The ordering rules of <see cref="SendLane"/>: progress before its result, answers side by side, a session's close notice last.</summary>
public sealed class SendLaneTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_do_not_wait_for_each_other_and_notifications_do_not_wait_for_answers()
    {
        var lane = new SendLane();
        var sent = new List<string>();
        var answerHeld = new TaskCompletionSource();
        var first = lane.SendAsync(OutboundKind.Answer, async () =>
        {
            await answerHeld.Task;
            await Record(sent, "answer 1");
        });

        await lane.SendAsync(OutboundKind.Answer, () => Record(sent, "answer 2")).WaitAsync(DefaultDeadline, Timeout);
        await lane.SendAsync(OutboundKind.Notification, () => Record(sent, "progress")).WaitAsync(DefaultDeadline, Timeout);

        answerHeld.SetResult();
        await first.WaitAsync(DefaultDeadline, Timeout);
        Assert.Equal(["answer 2", "progress", "answer 1"], sent);
    }

    [Fact]
    public async Task The_last_message_of_a_session_waits_for_every_earlier_send_answers_included()
    {
        var lane = new SendLane();
        var sent = new List<string>();
        var answerHeld = new TaskCompletionSource();
        var answer = lane.SendAsync(OutboundKind.Answer, async () =>
        {
            await answerHeld.Task;
            await Record(sent, "answer");
        });

        var close = lane.SendAsync(OutboundKind.Notification, () => Record(sent, "session closed"), afterAllEarlier: true);
        var after = lane.SendAsync(OutboundKind.Notification, () => Record(sent, "after the close"));

        // Held behind the answer still being sent, and so is what follows the close. (A send that does not wait runs at
        // once, on this thread, so a close that did not wait would already be recorded here.)
        Assert.False(close.IsCompleted);
        Assert.False(after.IsCompleted);
        Assert.Empty(sent);

        answerHeld.SetResult();
        await Task.WhenAll(answer, close, after).WaitAsync(DefaultDeadline, Timeout);
        Assert.Equal(["answer", "session closed", "after the close"], sent);
    }

    [Fact]
    public async Task A_failed_earlier_send_does_not_stop_the_last_one()
    {
        var lane = new SendLane();
        var failing = lane.SendAsync(OutboundKind.Answer, () => Task.FromException(new IOException("broker gone")));
        var sent = false;

        await lane.SendAsync(OutboundKind.Notification, () =>
        {
            sent = true;
            return Task.CompletedTask;
        }, afterAllEarlier: true).WaitAsync(DefaultDeadline, Timeout);

        await Assert.ThrowsAsync<IOException>(() => failing);
        Assert.True(sent);
    }

    private static Task Record(List<string> sent, string what)
    {
        lock (sent)
        {
            sent.Add(what);
        }

        return Task.CompletedTask;
    }
}
