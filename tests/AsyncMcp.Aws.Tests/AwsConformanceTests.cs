using AsyncMcp.Aws.SnsSqs;
using AsyncMcp.Testing.Conformance;
using ModelContextProtocol.Client;

namespace AsyncMcp.Aws.Tests;

/// <summary>The conformance suite over SQS on the emulator.</summary>
public sealed class SqsConformanceTests(SqsConformanceHarness harness) : TransportConformanceTests<SqsConformanceHarness>(harness);

public sealed class SqsConformanceHarness(EmulatorFixture fixture) : TransportHarness
{
    public override TransportTraits Traits { get; } = new() { Name = "SQS", SharesReplyAddresses = true };

    public override async Task<ServerUnderTest> StartServerAsync(ServerSettings settings) =>
        new SqsServerUnderTest(fixture, await SqsHarness.StartAsync(fixture, o => Configure(o, settings)));

    /// <summary>
    /// A short visibility timeout: a request handed back at shutdown can be taken by the stopped server's cancelled long
    /// poll, which the broker still serves, and is visible again only when its visibility timeout ends.
    /// </summary>
    internal static void Configure(Sqs.SqsBackedServerTransportOptions options, ServerSettings settings)
    {
        settings.ApplyTo(options);
        options.VisibilityTimeout = TimeSpan.FromSeconds(5);
    }

    /// <summary>An <see cref="SqsHarness"/> as the suite sees it.</summary>
    private sealed class SqsServerUnderTest(EmulatorFixture fixture, SqsHarness harness) : ServerUnderTest(harness.State, harness.Logs)
    {
        private readonly Lazy<Task<string>> _sharedQueue = new(() => harness.CreateResponseQueueAsync());

        public override int? SessionCount => harness.Server.Dispatcher!.SessionCount;

        public override int? InFlightRequests => harness.Server.Dispatcher!.PendingRequestCount;

        public override bool HasSession(string sessionId) => harness.Server.Dispatcher!.HasSession(sessionId);

        public override string UnknownSessionId => harness.Server.WorkerId + new string('0', 24);

        // A session's requests reach the worker's own queue; session-less ones and asyncmcp-style clients' the shared queue.
        public override async Task<int?> RequestsWaitingAsync() => await fixture.CountVisibleAsync(harness.RequestQueueUrl) + await fixture.CountVisibleAsync(harness.WorkerQueueUrl);

        public override async Task<int?> RequestsUnsettledAsync() => await fixture.CountUnsettledAsync(harness.RequestQueueUrl) + await fixture.CountUnsettledAsync(harness.WorkerQueueUrl);

        public override async Task<ServerUnderTest> StartSuccessorAsync() =>
            new SqsServerUnderTest(fixture, await SqsHarness.StartAsync(fixture, o => Configure(o, new ServerSettings()), requestQueueUrl: harness.RequestQueueUrl));

        protected override async Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress) =>
            harness.CreateClientTransport(shareReplyAddress ? await _sharedQueue.Value : await harness.CreateResponseQueueAsync());

        protected override async Task<RawPeer> CreateRawPeerCoreAsync() => harness.CreateRawPeer(await harness.CreateResponseQueueAsync());

        protected override Task StopServerAsync() => harness.StopAsync();

        protected override ValueTask DisposeResourcesAsync() => harness.DisposeAsync();
    }
}

/// <summary>The conformance suite over SNS+SQS with raw message delivery, to the server and to the clients.</summary>
public sealed class SnsSqsRawConformanceTests(SnsSqsRawConformanceHarness harness) : TransportConformanceTests<SnsSqsRawConformanceHarness>(harness);

public sealed class SnsSqsRawConformanceHarness(EmulatorFixture fixture) : SnsSqsConformanceHarness(fixture, rawDelivery: true);

/// <summary>The conformance suite over SNS+SQS with SNS's JSON envelope, to the server and to the clients.</summary>
public sealed class SnsSqsEnvelopedConformanceTests(SnsSqsEnvelopedConformanceHarness harness) : TransportConformanceTests<SnsSqsEnvelopedConformanceHarness>(harness);

public sealed class SnsSqsEnvelopedConformanceHarness(EmulatorFixture fixture) : SnsSqsConformanceHarness(fixture, rawDelivery: false);

/// <summary>Servers on a topic with the server's queue subscribed; clients on topics of their own, delivered raw or in SNS's envelope.</summary>
public abstract class SnsSqsConformanceHarness(EmulatorFixture fixture, bool rawDelivery) : TransportHarness
{
    public override TransportTraits Traits { get; } = new() { Name = rawDelivery ? "SNS+SQS (raw delivery)" : "SNS+SQS (enveloped delivery)", SharesReplyAddresses = true };

    public override async Task<ServerUnderTest> StartServerAsync(ServerSettings settings) =>
        new SnsSqsServerUnderTest(fixture, await SnsSqsHarness.StartAsync(fixture, rawDelivery, o => SqsConformanceHarness.Configure(o, settings)), rawDelivery);

    /// <summary>An <see cref="SnsSqsHarness"/> as the suite sees it.</summary>
    private sealed class SnsSqsServerUnderTest(EmulatorFixture fixture, SnsSqsHarness harness, bool rawDelivery) : ServerUnderTest(harness.State, harness.Logs)
    {
        private readonly Lazy<Task<SnsSqsSubscription>> _sharedEndpoint = new(() => harness.CreateClientEndpointAsync(rawDelivery));

        public override int? SessionCount => harness.Server.Dispatcher!.SessionCount;

        public override int? InFlightRequests => harness.Server.Dispatcher!.PendingRequestCount;

        public override bool HasSession(string sessionId) => harness.Server.Dispatcher!.HasSession(sessionId);

        public override string UnknownSessionId => harness.Server.WorkerId + new string('0', 24);

        // A session's requests reach the worker's own queue; session-less ones and asyncmcp-style clients' the shared queue.
        public override async Task<int?> RequestsWaitingAsync() => await fixture.CountVisibleAsync(harness.ServerQueue.Queue.QueueUrl) + await fixture.CountVisibleAsync(harness.WorkerQueueUrl);

        public override async Task<int?> RequestsUnsettledAsync() => await fixture.CountUnsettledAsync(harness.ServerQueue.Queue.QueueUrl) + await fixture.CountUnsettledAsync(harness.WorkerQueueUrl);

        public override async Task<ServerUnderTest> StartSuccessorAsync() =>
            new SnsSqsServerUnderTest(fixture, await SnsSqsHarness.StartAsync(fixture, rawDelivery, o => SqsConformanceHarness.Configure(o, new ServerSettings()), predecessor: harness), rawDelivery);

        protected override async Task<IClientTransport> CreateClientTransportAsync(bool shareReplyAddress) =>
            harness.CreateClientTransport(shareReplyAddress ? await _sharedEndpoint.Value : await harness.CreateClientEndpointAsync(rawDelivery));

        protected override async Task<RawPeer> CreateRawPeerCoreAsync() => harness.CreateRawPeer(await harness.CreateClientEndpointAsync(rawDelivery));

        protected override Task StopServerAsync() => harness.StopAsync();

        protected override ValueTask DisposeResourcesAsync() => harness.DisposeAsync();
    }
}
