// The test MCP server over SQS as a separate process, so that tests can kill it (SIGKILL) mid-request.
// Usage: AsyncMcp.TestServerHost --service-url URL --queue-url URL [--visibility-seconds N] [--wait-seconds N]
// Prints "READY" once receiving, and "EVENT <name>" when the test tools start or finish work.
// AsyncMcp.TestServerHost --stdio: the same server as an ordinary MCP C# SDK server on standard input and output,
// for asyncmcp serve to run as its child.
using System.Globalization;
using AsyncMcp.Aws.Sqs;
using AsyncMcp.Testing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

if (args.Contains("--stdio"))
{
    await using var stdio = new StdioServerTransport("asyncmcp-test-server");
    await using var stdioServer = McpServer.Create(stdio, TestMcpServer.CreateOptions(new TestServerState()));
    await stdioServer.RunAsync();
    return;
}

string Option(string name, string? fallback = null) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback ?? throw new ArgumentException($"{name} is required");

using var emulatorClient = new FauxqsClientFactory(Option("--service-url")).Create();
var state = new TestServerState { Observer = name => Console.WriteLine($"EVENT {name}") };
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
var options = new SqsServerTransportOptions
{
    RequestQueueUrl = Option("--queue-url"),
    VisibilityTimeout = TimeSpan.FromSeconds(int.Parse(Option("--visibility-seconds", "30"), CultureInfo.InvariantCulture)),
    WaitTime = TimeSpan.FromSeconds(int.Parse(Option("--wait-seconds", "20"), CultureInfo.InvariantCulture)),
};
await using var server = new SqsServerTransport(emulatorClient, options, TestMcpServer.CreateOptions(state), loggerFactory);
await server.StartAsync();
Console.WriteLine("READY");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
