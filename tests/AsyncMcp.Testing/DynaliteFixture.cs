using Amazon.DynamoDBv2;
using AsyncMcp.Aws.Tasks;

namespace AsyncMcp.Testing;

/// <summary>
/// One dynalite DynamoDB emulator for a test assembly (declare it with <c>[assembly: AssemblyFixture(typeof(DynaliteFixture))]</c>);
/// every test class uses tables of its own.
/// </summary>
public sealed class DynaliteFixture : IAsyncLifetime
{
    private DynaliteEmulator? _emulator;

    public DynaliteEmulator Emulator => _emulator ?? throw new InvalidOperationException("The DynamoDB emulator has not started.");

    public IAmazonDynamoDB Dynamo { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _emulator = await DynaliteEmulator.StartAsync();
        Dynamo = _emulator.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Dynamo?.Dispose();
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }

    /// <summary>Provisions a task table no other test uses, as <c>asyncmcp provision</c> will.</summary>
    public async Task<string> CreateTaskTableAsync(string prefix = "tasks")
    {
        var name = DynaliteEmulator.UniqueTableName(prefix);
        await new DynamoDbTaskTableProvisioner(Dynamo).EnsureTableAsync(name, TestContext.Current.CancellationToken);
        return name;
    }
}
