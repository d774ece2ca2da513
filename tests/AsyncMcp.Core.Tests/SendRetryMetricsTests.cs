using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>A send retried after a passing failure moves <c>asyncmcp.send.retries</c>; one that succeeds at once does not.</summary>
public sealed class SendRetryMetricsTests
{
    [Fact]
    public async Task Each_retry_of_a_send_is_counted_with_its_messaging_system()
    {
        using var metrics = new MetricsRecorder();
        var system = "test_" + Guid.NewGuid().ToString("N")[..8];
        var failures = 2;
        var inner = new FakeSink { Fail = _ => Interlocked.Decrement(ref failures) >= 0 ? new AsyncMcpTransportException("broker away", isTransient: true) : null };
        var sink = new RetryingMessageSink(inner, new SendRetryOptions { MaxAttempts = 5, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) }) { MessagingSystem = system };

        await sink.SendAsync("queue", new OutboundMessage("{}", new Dictionary<string, string>()), TestContext.Current.CancellationToken);
        await sink.SendAsync("queue", new OutboundMessage("{}", new Dictionary<string, string>()), TestContext.Current.CancellationToken);

        Assert.Equal(2, metrics.For("asyncmcp.send.retries").Where(m => Equals(m.Tags["messaging.system"], system)).Sum(m => m.Value));
    }
}
