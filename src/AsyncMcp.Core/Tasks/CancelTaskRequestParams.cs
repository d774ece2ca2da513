using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>The parameters of <c>tasks/cancel</c>. Cancellation is cooperative: the server acknowledges at once and decides when the task stops.</summary>
public sealed class CancelTaskRequestParams : RequestParams
{
    /// <summary>Gets or sets the id of the task.</summary>
    [JsonPropertyName("taskId")]
    public required string TaskId { get; set; }
}
