using System.Text;
using System.Text.Json;
using AsyncMcp.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace AsyncMcp.Testing.Tasks;

/// <summary>Starts the stores a <see cref="TaskStoreContractTests{THarness}"/> run tests, each on the clock it is given.</summary>
public abstract class TaskStoreHarness
{
    /// <summary>A store on <paramref name="timeProvider"/>; stores of one harness may share a backend (task ids are random).</summary>
    public abstract ValueTask<ITaskStore> CreateStoreAsync(TimeProvider timeProvider);
}

/// <summary>
/// What every <see cref="ITaskStore"/> must do, written once and run against each store with one line,
/// <c>public sealed class XTaskStoreTests(XHarness h) : TaskStoreContractTests&lt;XHarness&gt;(h);</c>: round trips of every
/// field, create-once, optimistic concurrency, the result recorded once under a race, terminal states, cancel requests,
/// input requests and answers, expiry (on a fake clock, so without waiting for any backend sweep), owners, large results
/// and ids that name nothing.
/// </summary>
/// <typeparam name="THarness">The store's harness, the class fixture.</typeparam>
public abstract class TaskStoreContractTests<THarness>(THarness harness) : IClassFixture<THarness>
    where THarness : TaskStoreHarness
{
    private const int TestTimeout = 60_000;

    // Whole milliseconds, as stores keep them.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact(Timeout = TestTimeout)]
    public async Task Create_and_get_round_trip_every_field()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var record = NewTask() with
        {
            OwnerId = "client-7",
            Status = TaskRecordStatus.InputRequired,
            StatusMessage = "Waiting for a name",
            Progress = new TaskRecordProgress(3, 10, "three of ten"),
            TtlMs = 3_600_000,
            PollIntervalMs = 2_000,
            ToolCall = new TaskToolCall(
                "slow_compute",
                Json("""{"seconds":60,"label":"naïve ✓","nested":{"list":[1,2.5,null,true]}}"""),
                Json("""{"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{}}}}""")),
            InputRequests = Map(("input-2", """{"method":"elicitation/create","params":{"message":"Name?"}}""")),
            InputResponses = Map(("input-1", """{"action":"accept","content":{"confirm":true}}""")),
            CancelRequested = true,
        };

        var created = await store.CreateAsync(record, Timeout);

        Assert.Equal(TaskWriteOutcome.Written, created.Outcome);
        var read = await store.GetAsync(record.TaskId, Timeout);
        Assert.NotNull(read);
        AssertSame(record with { CreatedAt = _clock.GetUtcNow(), LastUpdatedAt = _clock.GetUtcNow(), Version = 1 }, read);
        AssertSame(created.Record!, read);
        Assert.Equal(_clock.GetUtcNow().AddHours(1), read.ExpiresAt);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Completed_and_failed_tasks_keep_their_result_and_error()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var done = await CreateAsync(store);
        var failed = await CreateAsync(store);
        var result = Json("""{"resultType":"complete","content":[{"type":"text","text":"Hello, Luca!"}],"isError":false}""");
        var error = Json("""{"code":-32603,"message":"API rate limit exceeded","data":{"retryAfter":30}}""");
        _clock.Advance(TimeSpan.FromSeconds(5));

        var completed = await store.CompleteAsync(done.TaskId, TaskCompletion.Completed(result, "Done"), Timeout);
        var errored = await store.CompleteAsync(failed.TaskId, TaskCompletion.Failed(error), Timeout);

        Assert.Equal(TaskWriteOutcome.Written, completed.Outcome);
        Assert.Equal(TaskWriteOutcome.Written, errored.Outcome);
        var readDone = await store.GetAsync(done.TaskId, Timeout);
        Assert.Equal(TaskRecordStatus.Completed, readDone!.Status);
        AssertJson(result, readDone.Result);
        Assert.Null(readDone.Error);
        Assert.Equal("Done", readDone.StatusMessage);
        Assert.Equal(2, readDone.Version);
        Assert.Equal(_clock.GetUtcNow(), readDone.LastUpdatedAt);
        Assert.Equal(done.CreatedAt, readDone.CreatedAt);
        var readFailed = await store.GetAsync(failed.TaskId, Timeout);
        Assert.Equal(TaskRecordStatus.Failed, readFailed!.Status);
        AssertJson(error, readFailed.Error);
        Assert.Null(readFailed.Result);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_second_create_with_the_same_id_is_refused()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var first = await CreateAsync(store);

        var second = await store.CreateAsync(NewTask(first.TaskId) with { OwnerId = "someone-else", StatusMessage = "second" }, Timeout);

        Assert.Equal(TaskWriteOutcome.AlreadyExists, second.Outcome);
        var read = await store.GetAsync(first.TaskId, Timeout);
        Assert.Null(read!.OwnerId);
        Assert.Null(read.StatusMessage);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_update_from_a_stale_read_is_a_version_conflict()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var created = await CreateAsync(store);
        _clock.Advance(TimeSpan.FromMilliseconds(10));

        var first = await store.UpdateAsync(created with { StatusMessage = "first", PollIntervalMs = 500 }, Timeout);
        var stale = await store.UpdateAsync(created with { StatusMessage = "stale" }, Timeout);

        Assert.Equal(TaskWriteOutcome.Written, first.Outcome);
        Assert.Equal(2, first.Record!.Version);
        Assert.Equal(_clock.GetUtcNow(), first.Record.LastUpdatedAt);
        Assert.Equal(TaskWriteOutcome.VersionConflict, stale.Outcome);
        Assert.Equal("first", stale.Record!.StatusMessage);
        Assert.Equal(2, stale.Record.Version);

        // Retrying from the current record succeeds.
        var retried = await store.UpdateAsync(stale.Record with { StatusMessage = "retried" }, Timeout);
        Assert.Equal(TaskWriteOutcome.Written, retried.Outcome);
        Assert.Equal(3, retried.Record!.Version);
        Assert.Equal("retried", (await store.GetAsync(created.TaskId, Timeout))!.StatusMessage);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_update_keeps_the_fields_fixed_at_creation()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var created = await CreateAsync(store, NewTask() with { OwnerId = "owner" });

        var updated = await store.UpdateAsync(created with { OwnerId = "mallory", ToolCall = new TaskToolCall("other"), StatusMessage = "x" }, Timeout);

        Assert.Equal(TaskWriteOutcome.Written, updated.Outcome);
        var read = await store.GetAsync(created.TaskId, Timeout);
        Assert.Equal("owner", read!.OwnerId);
        Assert.Equal("slow_compute", read.ToolCall.Name);
        Assert.Equal("x", read.StatusMessage);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task The_result_is_recorded_once_when_completions_race()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);
        using var start = new ManualResetEventSlim();

        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(
            async () =>
            {
                start.Wait(Timeout);
                return (Worker: i, Outcome: await store.CompleteAsync(task.TaskId, TaskCompletion.Completed(Json($$"""{"content":[{"type":"text","text":"worker {{i}}"}]}""")), Timeout));
            },
            Timeout)).ToList();
        start.Set();
        var outcomes = await Task.WhenAll(attempts);

        var winners = outcomes.Where(o => o.Outcome.Outcome == TaskWriteOutcome.Written).ToList();
        var winner = Assert.Single(winners);
        var winnerText = $"worker {winner.Worker}";
        Assert.All(outcomes.Except(winners), o =>
        {
            Assert.Equal(TaskWriteOutcome.Terminal, o.Outcome.Outcome);
            Assert.Equal(winnerText, Text(o.Outcome.Record!.Result));
        });
        var stored = await store.GetAsync(task.TaskId, Timeout);
        Assert.Equal(winnerText, Text(stored!.Result));
        Assert.Equal(2, stored.Version);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TaskRecordStatus.Completed)]
    [InlineData(TaskRecordStatus.Failed)]
    [InlineData(TaskRecordStatus.Cancelled)]
    public async Task A_terminal_task_never_changes(TaskRecordStatus status)
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);
        var completion = status switch
        {
            TaskRecordStatus.Completed => TaskCompletion.Completed(Json("""{"content":[]}"""), "finished"),
            TaskRecordStatus.Failed => TaskCompletion.Failed(Json("""{"code":-32603,"message":"boom"}"""), "finished"),
            _ => TaskCompletion.Cancelled("finished"),
        };
        var ended = (await store.CompleteAsync(task.TaskId, completion, Timeout)).Record!;

        var outcomes = new[]
        {
            await store.CompleteAsync(task.TaskId, TaskCompletion.Completed(Json("""{"content":[{"type":"text","text":"late"}]}""")), Timeout),
            await store.CompleteAsync(task.TaskId, TaskCompletion.Cancelled(), Timeout),
            await store.UpdateAsync(ended with { Status = TaskRecordStatus.Working, Result = null, Error = null }, Timeout),
            await store.ReportProgressAsync(task.TaskId, "more", new TaskRecordProgress(1), Timeout),
            await store.RequestCancelAsync(task.TaskId, Timeout),
            await store.AddInputRequestsAsync(task.TaskId, Map(("input-1", """{"method":"elicitation/create","params":{}}""")), Timeout),
            await store.RecordInputResponsesAsync(task.TaskId, Map(("input-1", """{"action":"accept"}""")), Timeout),
        };

        Assert.All(outcomes, o => Assert.Equal(TaskWriteOutcome.Terminal, o.Outcome));
        var read = await store.GetAsync(task.TaskId, Timeout);
        AssertSame(ended, read!);
        Assert.Equal(status, read!.Status);
        Assert.False(read.CancelRequested);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Records_that_break_the_rules_are_refused()
    {
        var store = await harness.CreateStoreAsync(_clock);

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask() with { Status = TaskRecordStatus.Completed, Result = Json("{}") }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask() with { Status = TaskRecordStatus.InputRequired }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask() with { TtlMs = 0 }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask() with { PollIntervalMs = -1 }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask() with { ToolCall = new TaskToolCall("") }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CreateAsync(NewTask(string.Empty), Timeout));
        var task = await CreateAsync(store);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.UpdateAsync(task with { Status = TaskRecordStatus.Completed }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.UpdateAsync(task with { Status = TaskRecordStatus.Failed, Result = Json("{}") }, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.UpdateAsync(task with { Status = TaskRecordStatus.InputRequired }, Timeout));
        Assert.Throws<ArgumentException>(() => TaskCompletion.Completed(Json("[]")));
        Assert.Equal(1, (await store.GetAsync(task.TaskId, Timeout))!.Version);

        // Through UpdateAsync a task may also end, with its result.
        var ended = await store.UpdateAsync(task with { Status = TaskRecordStatus.Completed, Result = Json("""{"content":[]}""") }, Timeout);
        Assert.Equal(TaskWriteOutcome.Written, ended.Outcome);
        Assert.Equal(TaskRecordStatus.Completed, (await store.GetAsync(task.TaskId, Timeout))!.Status);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_cancel_request_sets_the_flag_and_keeps_the_task_running()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);

        var first = await store.RequestCancelAsync(task.TaskId, Timeout);
        var again = await store.RequestCancelAsync(task.TaskId, Timeout);

        Assert.Equal(TaskWriteOutcome.Written, first.Outcome);
        Assert.Equal(TaskWriteOutcome.Written, again.Outcome);
        var read = await store.GetAsync(task.TaskId, Timeout);
        Assert.True(read!.CancelRequested);
        Assert.Equal(TaskRecordStatus.Working, read.Status);
        Assert.Equal(2, read.Version);

        // The worker then records the cancellation once.
        Assert.Equal(TaskWriteOutcome.Written, (await store.CompleteAsync(task.TaskId, TaskCompletion.Cancelled("Cancelled by the client"), Timeout)).Outcome);
        Assert.Equal(TaskRecordStatus.Cancelled, (await store.GetAsync(task.TaskId, Timeout))!.Status);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Progress_and_status_message_are_recorded()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);

        await store.ReportProgressAsync(task.TaskId, "Half way", new TaskRecordProgress(50, 100, "50%"), Timeout);
        var keep = await store.ReportProgressAsync(task.TaskId, null, new TaskRecordProgress(75.5), Timeout);

        Assert.Equal(TaskWriteOutcome.Written, keep.Outcome);
        var read = await store.GetAsync(task.TaskId, Timeout);
        Assert.Equal("Half way", read!.StatusMessage);
        Assert.Equal(new TaskRecordProgress(75.5), read.Progress);
        Assert.Equal(3, read.Version);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Input_requests_wait_for_answers_and_answers_resume_the_task()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);
        var ask1 = """{"method":"elicitation/create","params":{"message":"Confirm?","requestedSchema":{"type":"object"}}}""";
        var ask2 = """{"method":"sampling/createMessage","params":{"messages":[],"maxTokens":10}}""";

        var added = await store.AddInputRequestsAsync(task.TaskId, Map(("input-1", ask1), ("input-2", ask2)), Timeout);
        Assert.Equal(TaskRecordStatus.InputRequired, added.Record!.Status);
        Assert.Equal(["input-1", "input-2"], added.Record.InputRequests.Keys.Order());

        // Asked again by a re-run on another worker: nothing changes. A key is never reused for another request.
        var again = await store.AddInputRequestsAsync(task.TaskId, Map(("input-1", ask1)), Timeout);
        Assert.Equal(added.Record.Version, again.Record!.Version);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AddInputRequestsAsync(task.TaskId, Map(("input-1", ask2)), Timeout));

        var answer1 = """{"action":"accept","content":{"confirm":true}}""";
        var partial = await store.RecordInputResponsesAsync(task.TaskId, Map(("input-1", answer1), ("never-asked", """{"ignored":true}""")), Timeout);
        Assert.Equal(TaskWriteOutcome.Written, partial.Outcome);
        var read = await store.GetAsync(task.TaskId, Timeout);
        Assert.Equal(TaskRecordStatus.InputRequired, read!.Status);
        Assert.Equal(["input-2"], read.InputRequests.Keys);
        Assert.Equal(["input-1"], read.InputResponses.Keys);
        AssertJson(Json(answer1), read.InputResponses["input-1"]);

        // An answered key is not outstanding any more: a second answer is ignored.
        var twice = await store.RecordInputResponsesAsync(task.TaskId, Map(("input-1", """{"action":"decline"}""")), Timeout);
        Assert.Equal(read.Version, twice.Record!.Version);

        var answer2 = """{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m"}""";
        await store.RecordInputResponsesAsync(task.TaskId, Map(("input-2", answer2)), Timeout);
        read = await store.GetAsync(task.TaskId, Timeout);
        Assert.Equal(TaskRecordStatus.Working, read!.Status);
        Assert.Empty(read.InputRequests);
        Assert.Equal(["input-1", "input-2"], read.InputResponses.Keys.Order());
        AssertJson(Json(answer1), read.InputResponses["input-1"]);
        AssertJson(Json(answer2), read.InputResponses["input-2"]);

        // A re-run asking an answered key again takes the recorded answer: the task stays working.
        var rerun = await store.AddInputRequestsAsync(task.TaskId, Map(("input-1", ask1)), Timeout);
        Assert.Equal(TaskRecordStatus.Working, rerun.Record!.Status);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Answers_arriving_together_are_all_recorded()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);
        var keys = Enumerable.Range(1, 4).Select(i => $"input-{i}").ToList();
        await store.AddInputRequestsAsync(task.TaskId, keys.ToDictionary(k => k, k => Json($$$"""{"method":"elicitation/create","params":{"message":"{{{k}}}"}}""")), Timeout);

        var outcomes = await Task.WhenAll(keys.Select(k => Task.Run(
            async () => await store.RecordInputResponsesAsync(task.TaskId, Map((k, $$$"""{"action":"accept","content":{"key":"{{{k}}}"}}""")), Timeout),
            Timeout)));

        Assert.All(outcomes, o => Assert.Equal(TaskWriteOutcome.Written, o.Outcome));
        var read = await store.GetAsync(task.TaskId, Timeout);
        Assert.Equal(TaskRecordStatus.Working, read!.Status);
        Assert.Equal(keys, read.InputResponses.Keys.Order());
    }

    [Fact(Timeout = TestTimeout)]
    public async Task An_expired_task_is_gone_at_once()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store, NewTask() with { TtlMs = 1_000 });

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.NotNull(await store.GetAsync(task.TaskId, Timeout));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await store.GetAsync(task.TaskId, Timeout));
        Assert.Equal(TaskWriteOutcome.NotFound, (await store.UpdateAsync(task with { StatusMessage = "late" }, Timeout)).Outcome);
        Assert.Equal(TaskWriteOutcome.NotFound, (await store.CompleteAsync(task.TaskId, TaskCompletion.Cancelled(), Timeout)).Outcome);
        Assert.Equal(TaskWriteOutcome.NotFound, (await store.RequestCancelAsync(task.TaskId, Timeout)).Outcome);
        Assert.Equal(TaskWriteOutcome.NotFound, (await store.ReportProgressAsync(task.TaskId, "late", null, Timeout)).Outcome);

        // The id is free again (the chance of a random id coming back is nil, but a leftover must not block it).
        var reused = await store.CreateAsync(NewTask(task.TaskId) with { StatusMessage = "new" }, Timeout);
        Assert.Equal(TaskWriteOutcome.Written, reused.Outcome);
        Assert.Equal("new", (await store.GetAsync(task.TaskId, Timeout))!.StatusMessage);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_completed_task_expires_with_its_result()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store, NewTask() with { TtlMs = 60_000 });
        await store.CompleteAsync(task.TaskId, TaskCompletion.Completed(Json("""{"content":[]}""")), Timeout);

        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(await store.GetAsync(task.TaskId, Timeout));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await store.GetAsync(task.TaskId, Timeout));
        Assert.False(await store.DeleteAsync(task.TaskId, Timeout));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_task_without_a_ttl_does_not_expire()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);

        _clock.Advance(TimeSpan.FromDays(3650));

        var read = await store.GetAsync(task.TaskId, Timeout);
        Assert.NotNull(read);
        Assert.Null(read.ExpiresAt);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task The_owner_is_stored_and_decides_who_sees_the_task()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var owned = await CreateAsync(store, NewTask() with { OwnerId = "arn:aws:iam::123456789012:role/client" });
        var bearer = await CreateAsync(store);

        var readOwned = await store.GetAsync(owned.TaskId, Timeout);
        var readBearer = await store.GetAsync(bearer.TaskId, Timeout);

        Assert.Equal("arn:aws:iam::123456789012:role/client", readOwned!.OwnerId);
        Assert.True(readOwned.IsVisibleTo("arn:aws:iam::123456789012:role/client"));
        Assert.False(readOwned.IsVisibleTo("arn:aws:iam::123456789012:role/other"));
        Assert.False(readOwned.IsVisibleTo(null));
        Assert.Null(readBearer!.OwnerId);
        Assert.True(readBearer.IsVisibleTo("anyone"));
        Assert.True(readBearer.IsVisibleTo(null));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_300_KB_result_round_trips()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);
        var text = LargeText(300 * 1024);
        var result = Json(JsonSerializer.Serialize(new { content = new[] { new { type = "text", text } } }));

        var completed = await store.CompleteAsync(task.TaskId, TaskCompletion.Completed(result), Timeout);

        Assert.Equal(TaskWriteOutcome.Written, completed.Outcome);
        Assert.Equal(text, Text((await store.GetAsync(task.TaskId, Timeout))!.Result));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Ids_that_name_no_task_are_answered_as_unknown()
    {
        var store = await harness.CreateStoreAsync(_clock);
        string[] ids = [TaskIds.NewId(), string.Empty, new string('x', 5000), "gate-test", "../../etc/passwd", "ü\u0000"];

        foreach (var id in ids)
        {
            Assert.Null(await store.GetAsync(id, Timeout));
            Assert.Equal(TaskWriteOutcome.NotFound, (await store.CompleteAsync(id, TaskCompletion.Cancelled(), Timeout)).Outcome);
            Assert.Equal(TaskWriteOutcome.NotFound, (await store.RequestCancelAsync(id, Timeout)).Outcome);
            Assert.Equal(TaskWriteOutcome.NotFound, (await store.RecordInputResponsesAsync(id, Map(("input-1", "{}")), Timeout)).Outcome);
            Assert.Equal(TaskWriteOutcome.NotFound, (await store.UpdateAsync(NewTask(id) with { Version = 1 }, Timeout)).Outcome);
            Assert.False(await store.DeleteAsync(id, Timeout));
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task A_deleted_task_is_gone()
    {
        var store = await harness.CreateStoreAsync(_clock);
        var task = await CreateAsync(store);

        Assert.True(await store.DeleteAsync(task.TaskId, Timeout));

        Assert.Null(await store.GetAsync(task.TaskId, Timeout));
        Assert.False(await store.DeleteAsync(task.TaskId, Timeout));
    }

    [Fact]
    public void Task_ids_are_128_random_bits_in_lowercase_hex()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => TaskIds.NewId()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    protected static TaskRecord NewTask(string? taskId = null) => new()
    {
        TaskId = taskId ?? TaskIds.NewId(),
        ToolCall = new TaskToolCall("slow_compute", Json("""{"seconds":2}""")),
    };

    protected async Task<TaskRecord> CreateAsync(ITaskStore store, TaskRecord? record = null)
    {
        var created = await store.CreateAsync(record ?? NewTask(), Timeout);
        Assert.Equal(TaskWriteOutcome.Written, created.Outcome);
        return created.Record!;
    }

    protected static JsonElement Json(string json) => JsonElement.Parse(json);

    protected static Dictionary<string, JsonElement> Map(params (string Key, string Json)[] entries) =>
        entries.ToDictionary(e => e.Key, e => Json(e.Json), StringComparer.Ordinal);

    /// <summary>Text of many lines of mixed ASCII and multi-byte characters, about <paramref name="bytes"/> bytes in UTF-8.</summary>
    protected static string LargeText(int bytes)
    {
        var builder = new StringBuilder(bytes);
        for (var line = 0; Encoding.UTF8.GetByteCount(builder.ToString()) < bytes - 100; line++)
        {
            builder.Append("line ").Append(line).Append(": naïve café ✓ ").Append('x', 950).Append('\n');
        }

        return builder.ToString();
    }

    private static string? Text(JsonElement? result) => result?.GetProperty("content")[0].GetProperty("text").GetString();

    private static void AssertJson(JsonElement? expected, JsonElement? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is { } e && actual is { } a)
        {
            Assert.True(JsonElement.DeepEquals(e, a), $"Expected {e.GetRawText()} but found {a.GetRawText()}.");
        }
    }

    private static void AssertSame(TaskRecord expected, TaskRecord actual)
    {
        Assert.Equal(expected.TaskId, actual.TaskId);
        Assert.Equal(expected.OwnerId, actual.OwnerId);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.StatusMessage, actual.StatusMessage);
        Assert.Equal(expected.Progress, actual.Progress);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.LastUpdatedAt, actual.LastUpdatedAt);
        Assert.Equal(expected.TtlMs, actual.TtlMs);
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.PollIntervalMs, actual.PollIntervalMs);
        Assert.Equal(expected.ToolCall.Name, actual.ToolCall.Name);
        AssertJson(expected.ToolCall.Arguments, actual.ToolCall.Arguments);
        AssertJson(expected.ToolCall.Meta, actual.ToolCall.Meta);
        AssertJson(expected.Result, actual.Result);
        AssertJson(expected.Error, actual.Error);
        Assert.Equal(expected.InputRequests.Keys.Order(), actual.InputRequests.Keys.Order());
        foreach (var (key, value) in expected.InputRequests)
        {
            AssertJson(value, actual.InputRequests[key]);
        }

        Assert.Equal(expected.InputResponses.Keys.Order(), actual.InputResponses.Keys.Order());
        foreach (var (key, value) in expected.InputResponses)
        {
            AssertJson(value, actual.InputResponses[key]);
        }

        Assert.Equal(expected.CancelRequested, actual.CancelRequested);
        Assert.Equal(expected.Version, actual.Version);
    }
}
