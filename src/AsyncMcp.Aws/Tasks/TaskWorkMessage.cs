using System.Text.Json.Serialization;

namespace AsyncMcp.Aws.Tasks;

/// <summary>The body of a task's work item on an SQS queue.</summary>
internal sealed record TaskWorkMessage([property: JsonPropertyName("taskId")] string TaskId);

[JsonSerializable(typeof(TaskWorkMessage))]
internal sealed partial class TaskWorkMessageJsonContext : JsonSerializerContext;
