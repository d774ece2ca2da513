using System.IO.Pipelines;
using AsyncMcp.Proxy.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The proxy's Streamable HTTP front in process: real Kestrel on loopback, a real SDK client in front, and a real
/// <see cref="McpServer"/> behind it on in-memory pipes, so that the front's own rules can be driven exactly.
/// </summary>
public sealed class StreamableHttpProxyTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_request_in_flight_keeps_its_session_past_the_idle_timeout_and_the_session_expires_once_idle()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tool = McpServerTool.Create(
            async () =>
            {
                started.TrySetResult();
                await release.Task;
                return "done";
            },
            new() { Name = "slow" });
        await using var backs = new PipeServers(tool);
        await using var proxy = new StreamableHttpProxy(backs.ConnectAsync, new StreamableHttpProxyOptions { SessionIdleTimeout = TimeSpan.FromSeconds(10) }, timeProvider: clock);
        await using var app = await StartAsync(proxy);

        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = new Uri(Address(app) + "/mcp"), TransportMode = HttpTransportMode.StreamableHttp, EnableStandaloneGetStream = false, OwnsSession = false }), new() { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, proxy.SessionCount);

        var call = client.CallToolAsync("slow", cancellationToken: TestContext.Current.CancellationToken).AsTask();
        await started.Task.WaitAsync(TestContext.Current.CancellationToken);

        // Far past the idle timeout while the call runs: the sweep (driven by the fake clock) must leave the session.
        for (var i = 0; i < 8; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(1, proxy.SessionCount);
        release.SetResult();
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal("done", ((TextContentBlock)result.Content[0]).Text);

        // Now idle (the client keeps no GET stream open, which would count as use, and never sends DELETE): a sweep
        // after the timeout closes the session with its back connection. The client can hold the result before the
        // proxy's POST handler has ended its use of the session, so the fake clock keeps moving (in real time, polled)
        // until the session has been idle long enough to expire.
        await Eventually(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(5));
                return proxy.SessionCount == 0;
            },
            what: "The expiry of the idle session");

        Assert.Equal(0, proxy.SessionCount);
        await backs.WaitForAllClosedAsync(TimeSpan.FromSeconds(30));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_session_whose_client_dropped_its_GET_stream_closes_after_the_abandoned_timeout_and_others_keep_the_idle_timeout()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var backs = new PipeServers(McpServerTool.Create(() => "pong", new() { Name = "ping" }));
        await using var proxy = new StreamableHttpProxy(backs.ConnectAsync, new StreamableHttpProxyOptions { SessionIdleTimeout = TimeSpan.FromMinutes(30), AbandonedSessionTimeout = TimeSpan.FromSeconds(10) }, timeProvider: clock);
        await using var app = await StartAsync(proxy);
        var endpoint = new Uri(Address(app) + "/mcp");

        // One client without a GET stream, one with: both leave without DELETE, as the MCP Inspector CLI does.
        var quiet = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp, EnableStandaloneGetStream = false, OwnsSession = false }), new() { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Current.CancellationToken);
        var gone = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp, OwnsSession = false }), new() { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("pong", ((TextContentBlock)(await gone.CallToolAsync("ping", cancellationToken: TestContext.Current.CancellationToken)).Content[0]).Text);
        var quietSession = quiet.SessionId!;
        await gone.DisposeAsync();

        // Past the abandoned timeout (the sweep runs on the fake clock): only the session whose GET stream dropped closes.
        await Eventually(
            () =>
            {
                clock.Advance(TimeSpan.FromSeconds(3));
                return proxy.SessionCount <= 1;
            },
            what: "The close of the abandoned session");

        Assert.Equal(1, proxy.SessionCount);
        Assert.Equal("pong", ((TextContentBlock)(await quiet.CallToolAsync("ping", cancellationToken: TestContext.Current.CancellationToken)).Content[0]).Text);
        Assert.Equal(quietSession, quiet.SessionId);
        await quiet.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task Closing_a_session_ends_its_requests_in_flight_and_its_back_connection()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tool = McpServerTool.Create(
            async (CancellationToken cancellationToken) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return "never";
            },
            new() { Name = "forever" });
        await using var backs = new PipeServers(tool);
        await using var proxy = new StreamableHttpProxy(backs.ConnectAsync, new StreamableHttpProxyOptions());
        await using var app = await StartAsync(proxy);
        var endpoint = new Uri(Address(app) + "/mcp");
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp, OwnsSession = false }), new() { ProtocolVersion = "2025-11-25" }, cancellationToken: TestContext.Current.CancellationToken);
        var call = client.CallToolAsync("forever", cancellationToken: TestContext.Current.CancellationToken).AsTask();
        await started.Task.WaitAsync(TestContext.Current.CancellationToken);

        using var http = new HttpClient();
        using var delete = new HttpRequestMessage(HttpMethod.Delete, endpoint);
        delete.Headers.Add("Mcp-Session-Id", client.SessionId);
        using var deleted = await http.SendAsync(delete, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(0, proxy.SessionCount);
        // The call fails (its stream ended with the session) rather than being left to wait.
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.IsNotType<TimeoutException>(failure);
        await backs.WaitForAllClosedAsync(TimeSpan.FromSeconds(30));
    }

    [Theory(Timeout = 120_000)]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task A_client_without_a_GET_stream_answers_sampling_and_elicitation_asked_on_its_call(string protocolVersion)
    {
        // The implicit form (the tool awaits the client) and the explicit one (an input_required result, then a retry).
        var implicitTool = McpServerTool.Create(
            async (McpServer server, CancellationToken ct) =>
            {
                var sampled = await server.SampleAsync(new CreateMessageRequestParams { Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = "ping" }] }], MaxTokens = 10 }, ct);
                var elicited = await server.ElicitAsync(new ElicitRequestParams { Message = "name?", RequestedSchema = new() { Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["name"] = new ElicitRequestParams.StringSchema() } } }, ct);
                return $"{((TextContentBlock)sampled.Content[0]).Text} {elicited.Content!["name"].GetString()}";
            },
            new() { Name = "ask" });
        var explicitTool = McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                if (context.Params?.InputResponses is { } answers && answers.TryGetValue("name", out var name) && answers.TryGetValue("model", out var model))
                {
                    return $"{((TextContentBlock)model.Deserialize(InputResponse.CreateMessageResultJsonTypeInfo)!.Content[0]).Text} {name.Deserialize(InputResponse.ElicitResultJsonTypeInfo)!.Content!["name"].GetString()}";
                }

                throw new InputRequiredException(new Dictionary<string, InputRequest>
                {
                    ["model"] = InputRequest.ForSampling(new CreateMessageRequestParams { Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = "ping" }] }], MaxTokens = 10 }),
                    ["name"] = InputRequest.ForElicitation(new ElicitRequestParams { Message = "name?", RequestedSchema = new() { Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["name"] = new ElicitRequestParams.StringSchema() } } }),
                });
            },
            new() { Name = "ask_explicitly" });
        await using var backs = new PipeServers(implicitTool, explicitTool);
        await using var proxy = new StreamableHttpProxy(backs.ConnectAsync, new StreamableHttpProxyOptions());
        await using var app = await StartAsync(proxy);
        var options = new McpClientOptions
        {
            ProtocolVersion = protocolVersion,
            Handlers = new()
            {
                SamplingHandler = (_, _, _) => ValueTask.FromResult(new CreateMessageResult { Model = "m", Role = Role.Assistant, Content = [new TextContentBlock { Text = "pong" }] }),
                ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { ["name"] = System.Text.Json.JsonSerializer.SerializeToElement("Ada") } }),
            },
        };

        // No GET stream: what the server asks must come on the stream of the POST that is waiting for the tool.
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new() { Endpoint = new Uri(Address(app) + "/mcp"), TransportMode = HttpTransportMode.StreamableHttp, EnableStandaloneGetStream = false }), options, cancellationToken: TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        Assert.Equal("pong Ada", ((TextContentBlock)(await client.CallToolAsync("ask", cancellationToken: timeout.Token)).Content[0]).Text);
        Assert.Equal("pong Ada", ((TextContentBlock)(await client.CallToolAsync("ask_explicitly", cancellationToken: timeout.Token)).Content[0]).Text);
        Assert.Equal(protocolVersion, client.NegotiatedProtocolVersion);
    }

    private static async Task<WebApplication> StartAsync(StreamableHttpProxy proxy)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Map("/mcp", proxy.HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    /// <summary>Back connections to in-process servers, one per session, each on a pair of in-memory pipes.</summary>
    private sealed class PipeServers(params McpServerTool[] tools) : IAsyncDisposable
    {
        private readonly List<(Task Run, CancellationTokenSource Stop, TaskCompletionSource Closed)> _servers = [];

        public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken)
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var serverTransport = new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream());
            var server = McpServer.Create(serverTransport, new McpServerOptions { ToolCollection = [.. tools] });
            var stop = new CancellationTokenSource();
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_servers)
            {
                _servers.Add((RunAsync(server, serverTransport, stop.Token), stop, closed));
            }

            var clientTransport = new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream());
            return new ObservedTransport(await clientTransport.ConnectAsync(cancellationToken), closed);
        }

        /// <summary>Waits until the proxy has closed every back connection it opened.</summary>
        public async Task WaitForAllClosedAsync(TimeSpan timeout)
        {
            Task[] closed;
            lock (_servers)
            {
                closed = [.. _servers.Select(s => s.Closed.Task)];
            }

            await Task.WhenAll(closed).WaitAsync(timeout);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var (run, stop, _) in _servers)
            {
                await stop.CancelAsync();
                await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                stop.Dispose();
            }
        }

        private static async Task RunAsync(McpServer server, ITransport transport, CancellationToken cancellationToken)
        {
            await using (server)
            await using (transport)
            {
                try
                {
                    await server.RunAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>A back connection that tells when the proxy disposes it.</summary>
    private sealed class ObservedTransport(ITransport inner, TaskCompletionSource closed) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public System.Threading.Channels.ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            closed.TrySetResult();
        }
    }
}
