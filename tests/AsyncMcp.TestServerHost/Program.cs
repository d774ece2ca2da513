// The test MCP server over SQS as a separate process, so that tests can kill it (SIGKILL) mid-request.
// Usage: AsyncMcp.TestServerHost --service-url URL --queue-url URL [--visibility-seconds N] [--wait-seconds N]
//        [--lease-seconds N] [--drain-seconds N]
// Prints "READY <worker id>" once receiving, "EVENT <name>" when the test tools start or finish work, and "STOPPED"
// once a SIGTERM has stopped it gracefully.
// Tasks (all three or none): --dynamodb-url URL --task-table NAME --task-queue-url URL [--task-lease-seconds N]
//        [--task-ttl-seconds N] [--side-effects FILE]: the tools long_job and elicit run as durable tasks (DynamoDB store,
//        SQS work queue); long_job appends "start <pid>", "cancelled <pid>" and "end <pid>" lines to the side-effects
//        file, and each tasks/* request served appends "<method> <pid>".
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
    ShutdownDrainTimeout = TimeSpan.FromSeconds(int.Parse(Option("--drain-seconds", "10"), CultureInfo.InvariantCulture)),
};
options.Workers.LeaseDuration = TimeSpan.FromSeconds(int.Parse(Option("--lease-seconds", "10"), CultureInfo.InvariantCulture));
var serverOptions = TestMcpServer.CreateOptions(state);
await using var tasks = TaskHosting.AddTo(serverOptions, args, Option, emulatorClient, loggerFactory);
var server = new SqsServerTransport(emulatorClient, options, serverOptions, loggerFactory);
await server.StartAsync();
Console.WriteLine($"READY {server.WorkerId}");

// SIGTERM and Ctrl+C stop the server gracefully: no new work, requests in flight drained, sessions closed with a
// notice; the process ends once that is done ("STOPPED"). SIGKILL, of course, ends it at once.
var stop = new TaskCompletionSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.TrySetResult();
});
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;
Console.WriteLine("STOPPING");
await server.DisposeAsync();
if (tasks.Worker is { } worker)
{
    using var drain = new CancellationTokenSource(options.ShutdownDrainTimeout);
    await worker.StopAsync(drain.Token);
}

Console.WriteLine("STOPPED");
