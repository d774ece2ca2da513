using Amazon.SQS;
using AsyncMcp.Testing;

[assembly: AssemblyFixture(typeof(AsyncMcp.Proxy.Tests.BridgeEmulator))]

namespace AsyncMcp.Proxy.Tests;

/// <summary>One fauxqs emulator for the test assembly; every test uses queues of its own.</summary>
public sealed class BridgeEmulator : IAsyncLifetime
{
    private FauxqsEmulator? _emulator;

    public IAmazonSQS Sqs { get; private set; } = null!;

    public AsyncMcp.Aws.Sns.SnsQueryClient Sns { get; private set; } = null!;

    public FauxqsEmulator Emulator => _emulator ?? throw new InvalidOperationException("The emulator has not started.");

    public async ValueTask InitializeAsync()
    {
        _emulator = await FauxqsEmulator.StartAsync();
        Sqs = _emulator.CreateSqsClient();
        Sns = new AsyncMcp.Aws.Sns.SnsQueryClient(new AsyncMcp.Aws.Sns.SnsQueryClientOptions
        {
            ServiceUrl = _emulator.ServiceUrl,
            Region = FauxqsEmulator.Region,
            Credentials = FauxqsEmulator.Credentials,
        });
    }

    public async ValueTask DisposeAsync()
    {
        Sqs?.Dispose();
        Sns?.Dispose();
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }

    public Task<string> CreateQueueAsync(string prefix) => Emulator.CreateQueueAsync(Sqs, FauxqsEmulator.UniqueName(prefix));
}
