using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using AsyncMcp.Aws.Tasks;
using AsyncMcp.Tasks;
using AsyncMcp.Testing.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace AsyncMcp.Aws.Tests;

/// <summary>The task store contract on <see cref="DynamoDbTaskStore"/> over the dynalite emulator.</summary>
public sealed class DynamoDbTaskStoreContractTests(DynamoDbTaskStoreHarness harness) : TaskStoreContractTests<DynamoDbTaskStoreHarness>(harness);

public sealed class DynamoDbTaskStoreHarness(DynaliteFixture fixture) : TaskStoreHarness
{
    private readonly Lazy<Task<string>> _table = new(() => fixture.CreateTaskTableAsync());

    public override async ValueTask<ITaskStore> CreateStoreAsync(TimeProvider timeProvider) =>
        new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = await _table.Value }, timeProvider);
}

/// <summary>Where the DynamoDB store differs: its item layout and TTL, its 400 KB limit, its configuration and its table.</summary>
public sealed class DynamoDbTaskStoreTests(DynaliteFixture fixture)
{
    private const int TestTimeout = 60_000;

    [Fact(Timeout = TestTimeout)]
    public async Task The_provisioner_creates_the_table_with_its_key_and_ttl_and_can_run_again()
    {
        var name = DynaliteEmulator.UniqueTableName("provision");
        var provisioner = new DynamoDbTaskTableProvisioner(fixture.Dynamo);

        var arn = await provisioner.EnsureTableAsync(name, TestContext.Current.CancellationToken);
        var again = await provisioner.EnsureTableAsync(name, TestContext.Current.CancellationToken);

        Assert.Equal(arn, again);
        Assert.EndsWith("table/" + name, arn, StringComparison.Ordinal);
        var table = (await fixture.Dynamo.DescribeTableAsync(name, TestContext.Current.CancellationToken)).Table;
        var key = Assert.Single(table.KeySchema);
        Assert.Equal(("taskId", KeyType.HASH), (key.AttributeName, key.KeyType));
        Assert.Equal(TableStatus.ACTIVE, table.TableStatus);
        var ttl = (await fixture.Dynamo.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = name }, TestContext.Current.CancellationToken)).TimeToLiveDescription;
        Assert.Equal(TimeToLiveStatus.ENABLED, ttl.TimeToLiveStatus);
        Assert.Equal("expiresAt", ttl.AttributeName);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task The_provisioner_refuses_a_table_with_another_key_or_ttl_attribute()
    {
        var otherKey = DynaliteEmulator.UniqueTableName("other-key");
        await fixture.Dynamo.CreateTableAsync(
            new CreateTableRequest
            {
                TableName = otherKey,
                AttributeDefinitions = [new AttributeDefinition("id", ScalarAttributeType.S)],
                KeySchema = [new KeySchemaElement("id", KeyType.HASH)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            },
            TestContext.Current.CancellationToken);
        var otherTtl = await fixture.CreateTaskTableAsync("other-ttl");
        await fixture.Dynamo.UpdateTimeToLiveAsync(
            new UpdateTimeToLiveRequest { TableName = otherTtl, TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = "expiresAt", Enabled = false } },
            TestContext.Current.CancellationToken);
        await fixture.Dynamo.UpdateTimeToLiveAsync(
            new UpdateTimeToLiveRequest { TableName = otherTtl, TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = "gone", Enabled = true } },
            TestContext.Current.CancellationToken);
        var provisioner = new DynamoDbTaskTableProvisioner(fixture.Dynamo);

        var keyError = await Assert.ThrowsAsync<InvalidOperationException>(() => provisioner.EnsureTableAsync(otherKey, TestContext.Current.CancellationToken));
        var ttlError = await Assert.ThrowsAsync<InvalidOperationException>(() => provisioner.EnsureTableAsync(otherTtl, TestContext.Current.CancellationToken));

        Assert.Contains("partition key 'taskId'", keyError.Message, StringComparison.Ordinal);
        Assert.Contains("'gone'", ttlError.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task The_item_carries_the_ttl_attribute_in_epoch_seconds_and_an_expired_item_is_not_read()
    {
        var table = await fixture.CreateTaskTableAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var store = new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = table }, clock);
        var task = (await store.CreateAsync(NewTask() with { TtlMs = 1_500 }, TestContext.Current.CancellationToken)).Record!;

        var item = await RawItemAsync(table, task.TaskId);
        var expiresAtMs = task.CreatedAt.ToUnixTimeMilliseconds() + 1_500;
        Assert.Equal(((expiresAtMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), item!["expiresAt"].N);
        Assert.Equal(expiresAtMs.ToString(System.Globalization.CultureInfo.InvariantCulture), item["expiresAtMs"].N);
        Assert.Equal("working", item["status"].S);

        clock.Advance(TimeSpan.FromSeconds(2));

        // The backend still holds it (its TTL sweep has not run), yet the store does not return it.
        Assert.NotNull(await RawItemAsync(table, task.TaskId));
        Assert.Null(await store.GetAsync(task.TaskId, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_record_above_400_KB_is_refused_with_a_clear_error_and_nothing_changes()
    {
        var table = await fixture.CreateTaskTableAsync();
        var store = new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = table });
        var tooLarge = TextResult(450 * 1024);

        // Too large by itself: refused before it is sent.
        var hugeArguments = NewTask() with { ToolCall = new TaskToolCall("slow_compute", tooLarge) };
        var createError = await Assert.ThrowsAsync<TaskRecordTooLargeException>(async () => await store.CreateAsync(hugeArguments, TestContext.Current.CancellationToken));
        Assert.Null(await store.GetAsync(hugeArguments.TaskId, TestContext.Current.CancellationToken));
        Assert.True(createError.SizeBytes > createError.LimitBytes);
        Assert.Contains("limit of 409600 bytes", createError.Message, StringComparison.Ordinal);

        var task = (await store.CreateAsync(NewTask(), TestContext.Current.CancellationToken)).Record!;
        await Assert.ThrowsAsync<TaskRecordTooLargeException>(async () => await store.CompleteAsync(task.TaskId, TaskCompletion.Completed(tooLarge), TestContext.Current.CancellationToken));

        // Fits alone, but not with the 250 KB of arguments already stored: DynamoDB refuses, the store says why.
        var bigTask = (await store.CreateAsync(NewTask() with { ToolCall = new TaskToolCall("slow_compute", TextResult(250 * 1024)) }, TestContext.Current.CancellationToken)).Record!;
        var backendError = await Assert.ThrowsAsync<TaskRecordTooLargeException>(async () => await store.CompleteAsync(bigTask.TaskId, TaskCompletion.Completed(TextResult(200 * 1024)), TestContext.Current.CancellationToken));
        Assert.Contains(bigTask.TaskId, backendError.Message, StringComparison.Ordinal);

        Assert.Equal(TaskRecordStatus.Working, (await store.GetAsync(task.TaskId, TestContext.Current.CancellationToken))!.Status);
        Assert.Equal(TaskRecordStatus.Working, (await store.GetAsync(bigTask.TaskId, TestContext.Current.CancellationToken))!.Status);

        // The task can still end, with an error saying why.
        var failed = await store.CompleteAsync(bigTask.TaskId, TaskCompletion.Failed(JsonElement.Parse("""{"code":-32603,"message":"The result is too large to keep."}""")), TestContext.Current.CancellationToken);
        Assert.Equal(TaskWriteOutcome.Written, failed.Outcome);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_missing_table_is_a_clear_error_naming_the_option()
    {
        var name = DynaliteEmulator.UniqueTableName("missing");
        var store = new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = name });

        var getError = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.GetAsync(TaskIds.NewId(), TestContext.Current.CancellationToken));
        var createError = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CreateAsync(NewTask(), TestContext.Current.CancellationToken));

        Assert.All([getError, createError], e =>
        {
            Assert.Contains("DynamoDbTaskStoreOptions.TableName", e.Message, StringComparison.Ordinal);
            Assert.Contains(name, e.Message, StringComparison.Ordinal);
            Assert.IsType<ResourceNotFoundException>(e.InnerException);
        });
    }

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("  ", "is required")]
    [InlineData("ab", "is not a DynamoDB table name")]
    [InlineData("tasks table", "is not a DynamoDB table name")]
    [InlineData("tasks/prod", "is not a DynamoDB table name")]
    public void Bad_table_names_are_refused_at_start_naming_the_option(string? tableName, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = tableName }));

        Assert.StartsWith("DynamoDbTaskStoreOptions.TableName", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_write_attempts_are_refused_at_start_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = "tasks", MaxWriteAttempts = 0 }));

        Assert.StartsWith("DynamoDbTaskStoreOptions.MaxWriteAttempts", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Two_stores_on_one_table_see_each_others_tasks_at_once()
    {
        // Two workers with clients of their own: what one creates, the other reads at once (strongly consistent reads).
        var table = await fixture.CreateTaskTableAsync();
        using var otherClient = fixture.Emulator.CreateClient();
        var worker1 = new DynamoDbTaskStore(fixture.Dynamo, new DynamoDbTaskStoreOptions { TableName = table });
        var worker2 = new DynamoDbTaskStore(otherClient, new DynamoDbTaskStoreOptions { TableName = table });

        var task = (await worker1.CreateAsync(NewTask(), TestContext.Current.CancellationToken)).Record!;
        Assert.NotNull(await worker2.GetAsync(task.TaskId, TestContext.Current.CancellationToken));
        await worker2.RequestCancelAsync(task.TaskId, TestContext.Current.CancellationToken);
        Assert.True((await worker1.GetAsync(task.TaskId, TestContext.Current.CancellationToken))!.CancelRequested);
    }

    private async Task<Dictionary<string, AttributeValue>?> RawItemAsync(string table, string taskId)
    {
        var response = await fixture.Dynamo.GetItemAsync(
            new GetItemRequest { TableName = table, Key = new() { ["taskId"] = new AttributeValue { S = taskId } }, ConsistentRead = true },
            TestContext.Current.CancellationToken);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    private static TaskRecord NewTask() => new() { TaskId = TaskIds.NewId(), ToolCall = new TaskToolCall("slow_compute") };

    private static JsonElement TextResult(int bytes) =>
        JsonElement.Parse(JsonSerializer.Serialize(new { content = new[] { new { type = "text", text = new string('x', bytes) } } }));
}
