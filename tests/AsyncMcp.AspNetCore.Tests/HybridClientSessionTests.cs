using AsyncMcp.Client;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Messaging;
using AsyncMcp.Wire;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>
/// The hybrid client's merging of stream and webhook, message by message: what the SDK client gets to read when
/// acknowledgements, results and cancellations come in every order.
/// </summary>
public sealed class HybridClientSessionTests
{
    [Fact]
    public async Task A_result_that_overtakes_its_acknowledgement_is_handed_over_at_once_and_the_acknowledgement_is_dropped()
    {
        await using var session = Session.Start();
        await session.SendCallAsync(5);

        session.Webhook(Result(5, "done"));
        Assert.Equal("done", ResultText(await session.ReadAsync()));

        session.Stream(Acknowledgement(5));
        session.Stream(Notification("after"));
        Assert.Equal("after", ((JsonRpcNotification)await session.ReadAsync()).Params!["n"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_result_for_a_cancelled_call_and_one_nobody_asked_for_are_dropped()
    {
        await using var session = Session.Start();
        await session.SendCallAsync(6);
        session.Stream(Acknowledgement(6));
        await session.Transport.SendMessageAsync(new JsonRpcNotification { Method = NotificationMethods.CancelledNotification, Params = new JsonObject { ["requestId"] = 6 } }, TestContext.Current.CancellationToken);

        session.Webhook(Result(6, "too late"));
        session.Webhook(Result(99, "stray"));
        session.Stream(Notification("next"));

        Assert.Equal("next", ((JsonRpcNotification)await session.ReadAsync()).Params!["n"]!.GetValue<string>());
        Assert.False(session.Transport.MessageReader.TryRead(out _));
    }

    [Fact]
    public async Task The_same_result_by_webhook_and_on_the_stream_is_handed_over_once()
    {
        await using var session = Session.Start();
        await session.SendCallAsync(7);
        session.Stream(Acknowledgement(7));

        session.Webhook(Result(7, "once"));
        session.Stream(Result(7, "once"));
        session.Stream(Notification("end"));

        Assert.Equal("once", ResultText(await session.ReadAsync()));
        Assert.IsType<JsonRpcNotification>(await session.ReadAsync());
    }

    [Fact]
    public async Task A_tools_call_opts_in_to_the_acknowledgement_and_names_the_webhook()
    {
        await using var session = Session.Start();
        await session.SendCallAsync(8);

        var sent = Assert.IsType<JsonRpcRequest>(await session.Sent.Reader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.True(sent.Params!["_meta"]![Hybrid.HybridMeta.Acknowledge]!.GetValue<bool>());
        Assert.Equal(Session.WebhookUrl, sent.Params["_meta"]![Hybrid.HybridMeta.WebhookUrl]!.GetValue<string>());
    }

    private static JsonRpcResponse Acknowledgement(int id) => new()
    {
        Id = new RequestId(id),
        Result = new JsonObject { ["content"] = new JsonArray(), ["_meta"] = new JsonObject { [Hybrid.HybridMeta.Accepted] = true } },
    };

    private static JsonRpcResponse Result(int id, string text) => new()
    {
        Id = new RequestId(id),
        Result = new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }) },
    };

    private static JsonRpcNotification Notification(string n) => new() { Method = "notifications/message", Params = new JsonObject { ["n"] = n } };

    private static string ResultText(JsonRpcMessage message) => ((JsonRpcResponse)message).Result!["content"]![0]!["text"]!.GetValue<string>();

    /// <summary>The transport under test between a fake Streamable HTTP session and a webhook source the test feeds.</summary>
    private sealed class Session : IAsyncDisposable
    {
        public const string WebhookUrl = "http://127.0.0.1:1/hook?client=c";

        private readonly Channel<JsonRpcMessage> _stream = Channel.CreateUnbounded<JsonRpcMessage>();
        private readonly PushedReplyFeed _webhook = new(WebhookUrl);

        private Session()
        {
            Transport = new HybridClientSessionTransport(new FakeInner(_stream.Reader, Sent.Writer), _webhook, WebhookUrl, TimeSpan.FromHours(1), TimeProvider.System, new OwnedResources(), NullLogger.Instance);
        }

        public Channel<JsonRpcMessage> Sent { get; } = Channel.CreateUnbounded<JsonRpcMessage>();

        public HybridClientSessionTransport Transport { get; }

        public static Session Start()
        {
            var session = new Session();
            session.Transport.Start();
            return session;
        }

        public Task SendCallAsync(int id) => Transport.SendMessageAsync(
            new JsonRpcRequest { Id = new RequestId(id), Method = RequestMethods.ToolsCall, Params = new JsonObject { ["name"] = "slow" } },
            TestContext.Current.CancellationToken);

        public void Stream(JsonRpcMessage message) => Assert.True(_stream.Writer.TryWrite(message));

        public void Webhook(JsonRpcMessage message) => Assert.True(_webhook.PushAsync(new PushedMessage(Guid.NewGuid().ToString("N"), JsonRpcCodec.Serialize(message), new Dictionary<string, string>()), CancellationToken.None).GetAwaiter().GetResult());

        public async Task<JsonRpcMessage> ReadAsync()
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(10));
            return await Transport.MessageReader.ReadAsync(cts.Token);
        }

        public ValueTask DisposeAsync() => Transport.DisposeAsync();
    }

    private sealed class FakeInner(ChannelReader<JsonRpcMessage> reader, ChannelWriter<JsonRpcMessage> sent) : ITransport
    {
        public string? SessionId => "fake";

        public ChannelReader<JsonRpcMessage> MessageReader => reader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            sent.TryWrite(message);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => default;
    }
}
