using System.CommandLine;
using AsyncMcp.Cli.Commands;

var root = new RootCommand("asyncmcp: MCP over asynchronous transports. Put an existing MCP server behind a queue or topic (serve), let a standard MCP client reach a server behind one (proxy), call a tool once (call), or create the queues and topics a deployment needs (provision).")
{
    ServeCommand.Create(),
    ProxyCommand.Create(),
    CallCommand.Create(),
    ProvisionCommand.Create(),
};
root.Options.Add(CliSettings.Config);
CliSettings.DescribeEnvironment(root);

var parsed = root.Parse(args);
return CliRuntime.ReportParseErrors(parsed) ?? await parsed.InvokeAsync();
