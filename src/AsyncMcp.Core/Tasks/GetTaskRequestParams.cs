using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>The parameters of <c>tasks/get</c>.</summary>
public sealed class GetTaskRequestParams : RequestParams
{
    /// <summary>Gets or sets the id of the task.</summary>
    [JsonPropertyName("taskId")]
    public required string TaskId { get; set; }
}
