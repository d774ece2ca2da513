using AsyncMcp.Tasks;
using AsyncMcp.Testing.Tasks;

namespace AsyncMcp.Core.Tests;

/// <summary>The task store contract on <see cref="InMemoryTaskStore"/>.</summary>
public sealed class InMemoryTaskStoreTests(InMemoryTaskStoreHarness harness) : TaskStoreContractTests<InMemoryTaskStoreHarness>(harness);

public sealed class InMemoryTaskStoreHarness : TaskStoreHarness
{
    public override ValueTask<ITaskStore> CreateStoreAsync(TimeProvider timeProvider) => ValueTask.FromResult<ITaskStore>(new InMemoryTaskStore(timeProvider));
}
