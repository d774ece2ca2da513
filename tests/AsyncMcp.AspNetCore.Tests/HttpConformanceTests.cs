using System.Text.Json.Nodes;
using AsyncMcp.AspNetCore.Hybrid.Client;
using AsyncMcp.AspNetCore.Hybrid.Server;
using AsyncMcp.AspNetCore.Webhooks.Client;
using AsyncMcp.Testing.Conformance;
using ModelContextProtocol.Client;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>The conformance suite over signed webhooks, real Kestrel on loopback on both sides.</summary>
public sealed class WebhookConformanceTests(WebhookConformanceHarness harness) : TransportConformanceTests<WebhookConformanceHarness>(harness);

public sealed class WebhookConformanceHarness : TransportHarness
{
    public override TransportTraits Traits { get; } = new()
    {
        Name = "webhook",
        AnswersOnTheRequest = true,
        RedeliversUnanswered = false,
        AllProgressBeforeResult = true,
    };

    public override async Task<ServerUnderTest> StartServerAsync(ServerSettings settings) =>
        new WebhookServerUnderTest(await WebhookHarness.StartAsync(settings.ApplyTo));

    /// <summary>A <see cref="WebhookHarness"/> as the suite sees it.</summary>
    private sealed class WebhookServerUnderTest(WebhookHarness harness) : ServerUnderTest(harness.State, harness.Logs)
    {
        public override int? SessionCount => harness.Server.Dispatcher.SessionCount;

        public override int? InFlightRequests => harness.Server.Dispatcher.PendingRequestCount;

        public override bool HasSession(string sessionId) => harness.Server.Dispatcher.HasSession(sessionId);

        protected override Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress) =>
            Task.FromResult<IClientTransport>(new WebhookClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory));

        protected override async Task<RawPeer> CreateRawPeerCoreAsync() => await RawWebhookPeer.StartAsync(harness.Url, harness.Secret);

        protected override Task StopServerAsync() => harness.StopAsync();

        protected override ValueTask DisposeResourcesAsync() => harness.DisposeAsync();
    }
}

/// <summary>The conformance suite over the Streamable HTTP + webhook hybrid answering POSTs with SSE streams, real Kestrel on loopback.</summary>
public sealed class HybridConformanceTests(HybridConformanceHarness harness) : TransportConformanceTests<HybridConformanceHarness>(harness);

public sealed class HybridConformanceHarness() : HybridHarnessBase(HybridResponseMode.Sse);

/// <summary>The conformance suite over the Streamable HTTP + webhook hybrid answering POSTs with one JSON body.</summary>
public sealed class HybridJsonConformanceTests(HybridJsonConformanceHarness harness) : TransportConformanceTests<HybridJsonConformanceHarness>(harness);

public sealed class HybridJsonConformanceHarness() : HybridHarnessBase(HybridResponseMode.Json);

/// <summary>Servers behind the hybrid endpoint in one response mode; the SDK keeps their sessions.</summary>
public abstract class HybridHarnessBase(HybridResponseMode mode) : TransportHarness
{
    public override TransportTraits Traits { get; } = new()
    {
        Name = $"hybrid ({mode} responses)",
        AnswersOnTheRequest = true,
        UnknownSession = new(-32001, null, "Session not found"),
        CancellationLog = "was stopped because the client cancelled it",
        BackgroundCallLog = tool => $"Tool '{tool}'",
        NotApplicable = new Dictionary<ConformanceAspect, string>
        {
            [ConformanceAspect.ServerRequestsWithoutSession] =
                "a webhook tool of a sessionless (2026-07-28) client cannot send requests to the client: no session carries the answer back (docs/transports/hybrid.md, Limits)",
            [ConformanceAspect.BackPressure] =
                "the SDK's Streamable HTTP endpoint serves every POST at once; MaxConcurrentWebhookCalls(PerSession) refuse webhook calls beyond them with -32000 instead of queueing them (HybridDeliveryTests)",
            [ConformanceAspect.ShutdownDrain] =
                "stopping the host cancels running webhook calls instead of draining them (HybridDeliveryTests.Stopping_the_server_cancels_running_webhook_calls_and_waits_for_them)",
            [ConformanceAspect.ShutdownUnanswered] =
                "stopping the host cancels running webhook calls, sends no result and logs why (HybridDeliveryTests.Stopping_the_server_cancels_running_webhook_calls_and_waits_for_them)",
            [ConformanceAspect.MissingReplyAddress] =
                "every request is answered on its own HTTP response; a webhook is optional (without one, webhook tools answer on the stream)",
        },
    };

    public override async Task<ServerUnderTest> StartServerAsync(ServerSettings settings) =>
        new HybridServerUnderTest(await HybridHarness.StartAsync(mode, configureHttp: o =>
        {
#pragma warning disable MCP9006 // The idle timeout of stateful sessions is what the suite's expiry test sets.
            o.IdleTimeout = settings.SessionIdleTimeout ?? o.IdleTimeout;
#pragma warning restore MCP9006
        }));

    /// <summary>A <see cref="HybridHarness"/> as the suite sees it: the SDK keeps its sessions, so it counts neither sessions nor requests.</summary>
    private sealed class HybridServerUnderTest(HybridHarness harness) : ServerUnderTest(harness.State, harness.Logs)
    {
        public override bool HasSession(string sessionId) => harness.HasSession(sessionId);

        protected override Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress) =>
            Task.FromResult<IClientTransport>(new HybridClientTransport(harness.ClientOptions(), WebhookHarness.LoggerFactory));

        protected override Task<RawPeer> CreateRawPeerCoreAsync() => Task.FromResult<RawPeer>(new HybridRawPeer(harness.Url));

        protected override Task StopServerAsync() => harness.StopAsync();

        protected override ValueTask DisposeResourcesAsync() => harness.DisposeAsync();
    }

    /// <summary>Plain Streamable HTTP without a webhook: every answer comes on the request.</summary>
    private sealed class HybridRawPeer(Uri endpoint) : RawPeer
    {
        private readonly RawStreamableHttp _http = new(endpoint);

        public override async Task<string> OpenSessionAsync()
        {
            await _http.InitializeAsync(webhookUrl: null);
            return _http.SessionId!;
        }

        public override async Task<RawAnswer> SendAsync(RawRequest request)
        {
            ArgumentNullException.ThrowIfNull(request);
            _http.SessionId = request.SessionId;
            var answer = await _http.PostAsync(request.Body, protocolVersion: request.ProtocolVersion ?? Protocols.November2025);
            return new RawAnswer((int)answer.Status, answer.Messages.FirstOrDefault());
        }

        public override Task<JsonObject> ReceiveAsync(Func<JsonObject, bool> match, TimeSpan? deadline = null) =>
            throw new Xunit.Sdk.XunitException("The hybrid transport answers every request on its own response; nothing comes at a reply address.");

        public override ValueTask DisposeAsync()
        {
            _http.Dispose();
            return base.DisposeAsync();
        }
    }
}
