using System.Text.Json;
using System.Text.Json.Serialization;

namespace AsyncMcp.Tasks;

/// <summary>Source-generated serialization of the extension's types, with the SDK's settings (null members left out unless a type says otherwise).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(CreateTaskResult))]
[JsonSerializable(typeof(DetailedTask))]
[JsonSerializable(typeof(GetTaskRequestParams))]
[JsonSerializable(typeof(UpdateTaskRequestParams))]
[JsonSerializable(typeof(CancelTaskRequestParams))]
[JsonSerializable(typeof(TaskAcknowledgement))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
internal sealed partial class McpTasksJsonContext : JsonSerializerContext;
