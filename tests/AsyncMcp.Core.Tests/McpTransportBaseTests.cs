using AsyncMcp.Messaging;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests;

/// <summary>
/// The base of the transports the SDK reads: a received message reaches the SDK's waiting reader on the thread that
/// writes it (no thread hop), nothing is handed on once disconnected, a disconnected transport cannot connect again,
/// and the reason it ended reaches the reader.
/// </summary>
public sealed class McpTransportBaseTests
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_message_reaches_the_waiting_reader_on_the_writing_thread()
    {
        await using var transport = new TestTransport();
        transport.Connect();
        var readOn = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var reading = Task.Run(
            async () =>
            {
                // The SDK waits like this: ReadAllAsync with ConfigureAwait(false).
                await foreach (var message in transport.MessageReader.ReadAllAsync(Timeout).ConfigureAwait(false))
                {
                    readOn[((JsonRpcNotification)message).Method] = Environment.CurrentManagedThreadId;
                }
            },
            Timeout);

        // A message written while the reader is busy is buffered and read on the reader's thread; one written while it
        // waits is read on the writer's. Each attempt writes from a new thread once the message before was read, so the
        // reader is almost always waiting; a channel that hops to the thread pool never matches.
        var inline = false;
        for (var attempt = 0; attempt < 50 && !inline; attempt++)
        {
            var method = $"notifications/test-{attempt}";
            var writerId = 0;
            var writing = new Thread(() =>
            {
                writerId = Environment.CurrentManagedThreadId;
                _ = transport.Receive(new JsonRpcNotification { Method = method });
            });
            writing.Start();
            await EventuallyAsync(() => Task.FromResult(readOn.ContainsKey(method)), TimeSpan.FromSeconds(10), $"Message {attempt} read");
            writing.Join();
            inline = readOn[method] == writerId;
        }

        Assert.True(inline, "No message reached the waiting reader on the thread that wrote it.");
        await transport.DisposeAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(10), Timeout);
    }

    [Fact]
    public async Task Once_disconnected_nothing_is_handed_on_the_reason_reaches_the_reader_and_it_cannot_connect_again()
    {
        await using var transport = new TestTransport();
        Assert.False(transport.IsConnected);
        transport.Connect();
        transport.Connect();
        Assert.True(transport.IsConnected);

        var reason = new InvalidOperationException("the queue is gone");
        transport.Disconnect(reason);
        transport.Disconnect(new InvalidOperationException("a second reason is not kept"));
        await transport.Receive(new JsonRpcNotification { Method = "notifications/late" });

        Assert.False(transport.IsConnected);
        Assert.False(transport.MessageReader.TryRead(out _));
        var ended = await Assert.ThrowsAsync<InvalidOperationException>(() => transport.MessageReader.Completion.WaitAsync(TimeSpan.FromSeconds(10), Timeout));
        Assert.Same(reason, ended);
        Assert.Throws<IOException>(transport.Connect);
    }

    [Fact]
    public async Task A_write_with_a_cancelled_token_fails_cancelled_and_is_not_handed_on()
    {
        await using var transport = new TestTransport();
        transport.Connect();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => transport.Receive(new JsonRpcNotification { Method = "notifications/test" }, cancelled.Token));
        Assert.False(transport.MessageReader.TryRead(out _));
    }

    private sealed class TestTransport() : McpTransportBase("test")
    {
        public void Connect() => SetConnected();

        public void Disconnect(Exception reason) => SetDisconnected(reason);

        public Task Receive(JsonRpcMessage message, CancellationToken cancellationToken = default) => WriteMessageAsync(message, cancellationToken);

        public override Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public override ValueTask DisposeAsync()
        {
            SetDisconnected();
            return ValueTask.CompletedTask;
        }
    }
}
