using System.CommandLine;
using AsyncMcp.Proxy.Bridging;
using AsyncMcp.Proxy.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AsyncMcp.Cli.Commands;

/// <summary><c>asyncmcp proxy</c>: lets a standard MCP client (stdio, or Streamable HTTP) reach an MCP server behind an async transport.</summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var listen = new Option<string?>("--listen")
        {
            Description = "Serve Streamable HTTP at this address (many sessions), such as http://127.0.0.1:3001; the endpoint is /mcp. Without it, one session on standard input and output.",
        };
        var token = new Option<string?>("--bearer-token") { Description = "With --listen: require 'Authorization: Bearer <token>' (at least 16 characters)." };
        var hosts = new Option<string[]>("--allowed-host")
        {
            Description = "With --listen: a host name accepted in Host and Origin headers (repeatable; default localhost, 127.0.0.1, [::1]), against DNS rebinding.",
        };
        var idle = new Option<int>("--session-idle-timeout") { Description = "With --listen: seconds without requests before a session and its back connection are closed.", DefaultValueFactory = _ => 1800 };
        var proxy = new Command("proxy", "Let a standard MCP client reach an MCP server behind an async transport (SQS, SNS+SQS, webhook, hybrid): over stdio (one session) or Streamable HTTP (--listen, many sessions); messages are forwarded unchanged, both ways (notifications, progress, cancellation, sampling and elicitation).")
        {
            listen,
            token,
            hosts,
            idle,
        };
        TransportSettings.AddTo(proxy, client: true);
        proxy.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var settings = TransportSettings.Read(cli, client: true);
            var listenUrl = cli.Get(listen);
            if (listenUrl is not null && !CliWebHost.IsListenAddress(listenUrl))
            {
                throw new CliUsageException($"--listen must be an http URL such as http://127.0.0.1:3001 (was '{listenUrl}'{cli.Origin(listen)}).");
            }

            var connection = ClientProtocol.Read(cli, settings.Transport);
            using var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose, longRunning: true);
            var (transports, owned) = await settings.ClientTransportsAsync(loggerFactory, cancellationToken, connection);
            using var ownedScope = owned;
            Task<ModelContextProtocol.Protocol.ITransport> ConnectBackAsync(CancellationToken ct) => transports().ConnectAsync(ct);

            if (listenUrl is null)
            {
                var back = await ConnectBackAsync(cancellationToken);
                var front = new StdioServerTransport("asyncmcp-proxy", loggerFactory);
                await McpMessageBridge.RunAsync(front, back, loggerFactory.CreateLogger("AsyncMcp.Cli.Proxy"), cancellationToken);
                return CliRuntime.Ok;
            }

            var options = new StreamableHttpProxyOptions
            {
                BearerToken = cli.Get(token),
                SessionIdleTimeout = TimeSpan.FromSeconds(cli.Get(idle)),
            };
            if (cli.Get(hosts) is { Length: > 0 } allowed)
            {
                options.AllowedHosts = [.. allowed];
            }

            await using var front2 = CreateFront(ConnectBackAsync, options, loggerFactory);
            await using var app = CliWebHost.CreateBuilder(listenUrl, loggerFactory).Build();
            app.Map("/mcp", front2.HandleAsync);
            var address = await CliWebHost.StartAsync(app, cancellationToken);
            await Console.Error.WriteLineAsync($"asyncmcp proxy: listening on {address}/mcp");
            await CliRuntime.WaitForStopAsync(cancellationToken);

            await app.StopAsync(CancellationToken.None);
            return CliRuntime.Ok;
        }));
        return proxy;
    }

    private static StreamableHttpProxy CreateFront(Func<CancellationToken, Task<ModelContextProtocol.Protocol.ITransport>> connectBack, StreamableHttpProxyOptions options, ILoggerFactory loggerFactory)
    {
        try
        {
            return new StreamableHttpProxy(connectBack, options, loggerFactory);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message.Replace("StreamableHttpProxyOptions.BearerToken", "--bearer-token", StringComparison.Ordinal).Replace("StreamableHttpProxyOptions.AllowedHosts", "--allowed-host", StringComparison.Ordinal).Replace("StreamableHttpProxyOptions.SessionIdleTimeout", "--session-idle-timeout", StringComparison.Ordinal));
        }
    }
}
