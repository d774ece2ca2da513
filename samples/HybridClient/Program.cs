// An ordinary McpClient over the hybrid transport: Streamable HTTP for everything, and the results of the server's
// webhook tools taken on a listener of its own (a free loopback port unless told otherwise).
//
// Configuration (environment):
//   ASYNCMCP_SERVER_URL      the server's Streamable HTTP endpoint (default http://127.0.0.1:5000/mcp)
//   ASYNCMCP_WEBHOOK_SECRET  the secret shared with the server (whsec_...)
// snippet: use-hybrid-client
using AsyncMcp.AspNetCore.Hybrid.Client;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

var endpoint = new Uri(Environment.GetEnvironmentVariable("ASYNCMCP_SERVER_URL") ?? "http://127.0.0.1:5000/mcp");
var secret = Environment.GetEnvironmentVariable("ASYNCMCP_WEBHOOK_SECRET");

var transport = new HybridClientTransport(new HybridClientTransportOptions
{
    Endpoint = endpoint,
    Security = { Secret = secret },
});
await using var client = await McpClient.CreateAsync(transport);
Console.WriteLine($"Connected to {client.ServerInfo?.Name} over the hybrid transport (protocol {client.NegotiatedProtocolVersion}).");
// end snippet

Console.WriteLine("Tools:");
foreach (var tool in await client.ListToolsAsync())
{
    Console.WriteLine($"  {tool.Name,-18} {tool.Description}");
}

Console.WriteLine("Calling long_running_job:");
var result = await client.CallToolAsync(
    "long_running_job",
    new Dictionary<string, object?> { ["steps"] = 5, ["stepMilliseconds"] = 400 },
    new ConsoleProgress());
Console.WriteLine($"Result: {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}");

/// <summary>Prints each progress notification as it arrives.</summary>
internal sealed class ConsoleProgress : IProgress<ProgressNotificationValue>
{
    public void Report(ProgressNotificationValue value) =>
        Console.WriteLine($"  progress {value.Progress}/{value.Total}: {value.Message}");
}
