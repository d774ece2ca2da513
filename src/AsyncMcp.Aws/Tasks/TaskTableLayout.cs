using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using AsyncMcp.Tasks;

namespace AsyncMcp.Aws.Tasks;

/// <summary>
/// How a <see cref="TaskRecord"/> is laid out as a DynamoDB item: one item per task, partition key <c>taskId</c>;
/// JSON values as strings, so they round-trip exactly; times as epoch milliseconds; <c>expiresAt</c> in epoch seconds
/// for DynamoDB's TTL sweep and <c>expiresAtMs</c> for exact expiry in reads and conditions.
/// </summary>
internal static class TaskTableLayout
{
    public const string TaskId = "taskId";
    public const string Version = "version";
    public const string Status = "status";
    public const string OwnerId = "ownerId";
    public const string StatusMessage = "statusMessage";
    public const string Progress = "progress";
    public const string ProgressTotal = "progressTotal";
    public const string ProgressMessage = "progressMessage";
    public const string CreatedAt = "createdAt";
    public const string LastUpdatedAt = "lastUpdatedAt";
    public const string TtlMs = "ttlMs";
    public const string ExpiresAtMs = "expiresAtMs";
    public const string ExpiresAt = "expiresAt";
    public const string PollIntervalMs = "pollIntervalMs";
    public const string ToolName = "toolName";
    public const string Arguments = "arguments";
    public const string RequestMeta = "requestMeta";
    public const string CallInputResponses = "callInputResponses";
    public const string CallRequestState = "callRequestState";
    public const string Result = "result";
    public const string Error = "error";
    public const string InputRequests = "inputRequests";
    public const string InputResponses = "inputResponses";
    public const string CancelRequested = "cancelRequested";

    /// <summary>The largest DynamoDB item, in bytes.</summary>
    public const int MaxItemBytes = 400 * 1024;

    /// <summary>The attributes a write after creation may change (the others are fixed at creation).</summary>
    public static readonly ImmutableArray<string> Mutable =
    [
        Version, Status, StatusMessage, Progress, ProgressTotal, ProgressMessage, LastUpdatedAt, TtlMs, ExpiresAtMs, ExpiresAt,
        PollIntervalMs, Result, Error, InputRequests, InputResponses, CancelRequested,
    ];

    public static Dictionary<string, AttributeValue> Key(string taskId) => new(StringComparer.Ordinal) { [TaskId] = new AttributeValue { S = taskId } };

    public static Dictionary<string, AttributeValue> ToItem(TaskRecord record)
    {
        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            [TaskId] = new() { S = record.TaskId },
            [Version] = Number(record.Version),
            [Status] = new() { S = record.Status.ToWireValue() },
            [CreatedAt] = Number(record.CreatedAt.ToUnixTimeMilliseconds()),
            [LastUpdatedAt] = Number(record.LastUpdatedAt.ToUnixTimeMilliseconds()),
            [ToolName] = new() { S = record.ToolCall.Name },
        };
        PutString(item, OwnerId, record.OwnerId);
        PutString(item, StatusMessage, record.StatusMessage);
        if (record.Progress is { } progress)
        {
            item[Progress] = Number(progress.Progress);
            if (progress.Total is { } total)
            {
                item[ProgressTotal] = Number(total);
            }

            PutString(item, ProgressMessage, progress.Message);
        }

        if (record.TtlMs is { } ttl && record.ExpiresAt is { } expiresAt)
        {
            item[TtlMs] = Number(ttl);
            item[ExpiresAtMs] = Number(expiresAt.ToUnixTimeMilliseconds());

            // DynamoDB's TTL reads whole seconds; rounding up never deletes a task before its time.
            item[ExpiresAt] = Number((expiresAt.ToUnixTimeMilliseconds() + 999) / 1000);
        }

        if (record.PollIntervalMs is { } poll)
        {
            item[PollIntervalMs] = Number(poll);
        }

        PutJson(item, Arguments, record.ToolCall.Arguments);
        PutJson(item, RequestMeta, record.ToolCall.Meta);
        PutJson(item, CallInputResponses, record.ToolCall.InputResponses);
        if (record.ToolCall.RequestState is { } requestState)
        {
            item[CallRequestState] = new() { S = requestState };
        }

        PutJson(item, Result, record.Result);
        PutJson(item, Error, record.Error);
        PutMap(item, InputRequests, record.InputRequests);
        PutMap(item, InputResponses, record.InputResponses);
        if (record.CancelRequested)
        {
            item[CancelRequested] = new() { BOOL = true };
        }

        return item;
    }

    public static TaskRecord FromItem(Dictionary<string, AttributeValue> item)
    {
        if (!TaskRecordStatusExtensions.TryParseWireValue(String(item, Status), out var status))
        {
            throw new InvalidDataException($"Task item {String(item, TaskId)} has an unknown status '{String(item, Status)}'.");
        }

        var progress = LongOrDouble(item, Progress) is { } value
            ? new TaskRecordProgress(value, LongOrDouble(item, ProgressTotal), String(item, ProgressMessage))
            : null;
        return new TaskRecord
        {
            TaskId = String(item, TaskId) ?? throw new InvalidDataException("A task item has no taskId."),
            OwnerId = String(item, OwnerId),
            Status = status,
            StatusMessage = String(item, StatusMessage),
            Progress = progress,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(Long(item, CreatedAt) ?? 0),
            LastUpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(Long(item, LastUpdatedAt) ?? 0),
            TtlMs = Long(item, TtlMs),
            PollIntervalMs = Long(item, PollIntervalMs),
            ToolCall = new TaskToolCall(String(item, ToolName) ?? string.Empty, Json(item, Arguments), Json(item, RequestMeta), Json(item, CallInputResponses), String(item, CallRequestState)),
            Result = Json(item, Result),
            Error = Json(item, Error),
            InputRequests = Map(item, InputRequests),
            InputResponses = Map(item, InputResponses),
            CancelRequested = item.TryGetValue(CancelRequested, out var cancel) && cancel.BOOL == true,
            Version = Long(item, Version) ?? 0,
        };
    }

    /// <summary>An item's size as DynamoDB counts it (attribute names and values in UTF-8), rounded up where DynamoDB's count is not exact.</summary>
    public static long SizeOf(Dictionary<string, AttributeValue> item)
    {
        long size = 0;
        foreach (var (name, value) in item)
        {
            size += Encoding.UTF8.GetByteCount(name) + SizeOf(value);
        }

        return size;
    }

    private static long SizeOf(AttributeValue value)
    {
        if (value.S is { } s)
        {
            return Encoding.UTF8.GetByteCount(s);
        }

        if (value.N is not null)
        {
            return 21;
        }

        if (value.M is { } map)
        {
            return 3 + map.Sum(pair => Encoding.UTF8.GetByteCount(pair.Key) + SizeOf(pair.Value) + 1);
        }

        return 1;
    }

    private static AttributeValue Number(long value) => new() { N = value.ToString(CultureInfo.InvariantCulture) };

    private static AttributeValue Number(double value) => new() { N = value.ToString("R", CultureInfo.InvariantCulture) };

    private static void PutString(Dictionary<string, AttributeValue> item, string name, string? value)
    {
        // DynamoDB refuses empty strings in maps only, but an absent attribute reads back the same as null.
        if (value is not null)
        {
            item[name] = new AttributeValue { S = value };
        }
    }

    private static void PutJson(Dictionary<string, AttributeValue> item, string name, JsonElement? value)
    {
        if (value is { } json)
        {
            item[name] = new AttributeValue { S = json.GetRawText() };
        }
    }

    private static void PutMap(Dictionary<string, AttributeValue> item, string name, IReadOnlyDictionary<string, JsonElement> values)
    {
        // An empty map is left out: absent reads back as empty.
        if (values.Count > 0)
        {
            item[name] = new AttributeValue { M = values.ToDictionary(pair => pair.Key, pair => new AttributeValue { S = pair.Value.GetRawText() }, StringComparer.Ordinal) };
        }
    }

    private static string? String(Dictionary<string, AttributeValue> item, string name) => item.TryGetValue(name, out var value) ? value.S : null;

    private static long? Long(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? long.Parse(n, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

    private static double? LongOrDouble(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.N is { } n ? double.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

    private static JsonElement? Json(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.S is { } s ? JsonElement.Parse(s) : null;

    private static ImmutableDictionary<string, JsonElement> Map(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var value) && value.M is { Count: > 0 } map
            ? map.ToImmutableDictionary(pair => pair.Key, pair => JsonElement.Parse(pair.Value.S), StringComparer.Ordinal)
            : ImmutableDictionary<string, JsonElement>.Empty;
}
