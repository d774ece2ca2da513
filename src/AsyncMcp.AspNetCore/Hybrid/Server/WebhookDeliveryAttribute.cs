namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// Marks an MCP tool method whose final result is delivered to the client's webhook by the hybrid transport: the
/// <c>tools/call</c> POST is acknowledged at once, and the result follows by signed POST when the tool finishes. Clients
/// that name no webhook get the result on the stream as usual.
/// </summary>
/// <example>
/// <code>
/// [McpServerTool, WebhookDelivery, Description("Renders the report; takes minutes.")]
/// public static async Task&lt;string&gt; RenderReport(IProgress&lt;ProgressNotificationValue&gt; progress, CancellationToken ct) { … }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class WebhookDeliveryAttribute : Attribute
{
}
