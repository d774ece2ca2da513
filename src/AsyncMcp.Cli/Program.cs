using System.CommandLine;
using AsyncMcp.Cli.Commands;

var root = new RootCommand("asyncmcp: MCP over asynchronous transports. Put an existing MCP server behind a queue (serve), let a standard MCP client reach a server behind one (proxy), or call a tool once (call).")
{
    ServeCommand.Create(),
    ProxyCommand.Create(),
    CallCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
