using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// The parameters of <c>tasks/update</c>: answers to a task's outstanding input requests, in
/// <see cref="RequestParams.InputResponses"/> (<c>inputResponses</c>), keyed as the task's <c>inputRequests</c> were.
/// </summary>
/// <remarks>
/// A server ignores answers to keys that are not outstanding and may accept a subset, keeping the task
/// <c>input_required</c> until the rest arrive.
/// </remarks>
public sealed class UpdateTaskRequestParams : RequestParams
{
    /// <summary>Gets or sets the id of the task.</summary>
    [JsonPropertyName("taskId")]
    public required string TaskId { get; set; }
}
