using System.CommandLine;
using AsyncMcp.Cli.Commands;

var root = new RootCommand("asyncmcp: MCP over asynchronous transports. Put an existing MCP server behind a queue or topic (serve), let a standard MCP client reach a server behind one (proxy), call a tool once (call), follow a task by its id (task), create the queues and topics a deployment needs (provision), see what they hold (status), and read and redrive dead letters (dlq).")
{
    ServeCommand.Create(),
    ProxyCommand.Create(),
    CallCommand.Create(),
    TaskCommand.Create(),
    ProvisionCommand.Create(),
    StatusCommand.Create(),
    DlqCommand.Create(),
};
root.Options.Add(CliSettings.Config);
CliSettings.DescribeEnvironment(root);

var parsed = root.Parse(args);
// Ctrl+C or SIGTERM cancels the command's token; a server then drains its requests in flight and closes its sessions,
// which takes up to its drain timeout (10 s by default) and a few seconds more, within this limit.
return CliRuntime.ReportParseErrors(parsed) ?? await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
