using System.ComponentModel;
using ModelContextProtocol.Server;

namespace Snippets;

/// <summary>The tools the snippets serve.</summary>
[McpServerToolType]
public sealed class MyTools
{
    [McpServerTool(Name = "echo"), Description("Echoes the message back.")]
    public static string Echo(string message) => message;
}
