using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using AsyncMcp.Aws.Sns;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// The connection of a one-shot client command (<c>call</c>, <c>task</c>): the transport's client, the wait for the
/// server (<c>--timeout</c>, restarted by progress), and one clear line for each way the server cannot be reached.
/// </summary>
internal sealed class ClientConnection : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly IDisposable? _owned;
    private readonly CancellationTokenSource _answerWait;
    private readonly TimeSpan _wait;

    private ClientConnection(McpClient client, ILoggerFactory loggerFactory, IDisposable? owned, CancellationTokenSource answerWait, TimeSpan wait, int seconds, string server)
    {
        Client = client;
        _loggerFactory = loggerFactory;
        _owned = owned;
        _answerWait = answerWait;
        _wait = wait;
        Seconds = seconds;
        Server = server;
    }

    /// <summary><c>--client-id</c>: who the server's tasks belong to; the same in every process of one user, so that any of them can follow a task.</summary>
    public static readonly Option<string?> ClientId = new("--client-id")
    {
        Description = "sqs, sns-sqs and webhook: the client id this command sends (the server binds tasks to it, so task get|wait|cancel need the id that started the task). Default: one id for this user on this machine.",
    };

    /// <summary>The connected client.</summary>
    public McpClient Client { get; }

    /// <summary>Cancelled when the wait for the server's answer ends (<c>--timeout</c>); restarted by <see cref="RestartWait"/>.</summary>
    public CancellationToken AnswerToken => _answerWait.Token;

    /// <summary><c>--timeout</c> in seconds; 0 for no limit.</summary>
    public int Seconds { get; }

    /// <summary>Where the server is, for messages: "request queue 'mcp-requests'".</summary>
    public string Server { get; }

    /// <summary>Whether the wait for the server ran out (and not the command's own token).</summary>
    public bool TimedOut(CancellationToken commandToken) => _answerWait.IsCancellationRequested && !commandToken.IsCancellationRequested;

    /// <summary>Starts the wait for the answer again (a progress notice arrived).</summary>
    public void RestartWait() => _answerWait.CancelAfter(_wait);

    /// <summary>Reads and checks <c>--timeout</c>.</summary>
    /// <exception cref="CliUsageException">Out of range.</exception>
    public static int ReadTimeout(CliSettings cli, Option<int> timeout)
    {
        var seconds = cli.Get(timeout);
        return seconds is < 0 or > 86_400
            ? throw new CliUsageException($"--timeout must be from 0 (no limit) to 86400 seconds (was {seconds}{cli.Origin(timeout)}).")
            : seconds;
    }

    /// <summary>The client id to send: <c>--client-id</c>, else one derived from this user and machine (stable across processes).</summary>
    public static string ReadClientId(CliSettings cli)
    {
        var given = cli.Get(ClientId);
        if (!string.IsNullOrWhiteSpace(given))
        {
            // A dot would be read as the start of the per-connection suffix the transports add.
            return given.Trim() is var id && id.Length <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
                ? id
                : throw new CliUsageException($"--client-id must be 1 to 128 letters, digits, '-' and '_' (was '{given}'{cli.Origin(ClientId)}).");
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{Environment.UserName}@{Environment.MachineName}"));
        return "asyncmcp-cli-" + Convert.ToHexStringLower(hash, 0, 8);
    }

    /// <summary>Connects to the server, waiting at most <paramref name="seconds"/> (0: for ever).</summary>
    /// <exception cref="CliFailureException">The server did not answer, cannot be reached, or its topic does not exist.</exception>
    public static async Task<ClientConnection> ConnectAsync(
        TransportSettings.Resolved settings,
        ClientProtocol protocol,
        int seconds,
        string clientId,
        IEnumerable<KeyValuePair<string, Func<JsonRpcNotification, CancellationToken, ValueTask>>> notificationHandlers,
        CancellationToken cancellationToken)
    {
        var wait = seconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
        var answerWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loggerFactory = CliRuntime.CreateLoggerFactory(settings.Verbose, longRunning: false);
        IDisposable? owned = null;
        try
        {
            (var transports, owned) = await settings.ClientTransportsAsync(loggerFactory, cancellationToken, protocol, clientId).ConfigureAwait(false);
            var clientOptions = protocol.CreateClientOptions();
            clientOptions.InitializationTimeout = wait;
            clientOptions.Handlers = new McpClientHandlers { NotificationHandlers = notificationHandlers };
            McpClient client;
            try
            {
                client = await McpClient.CreateAsync(transports(), clientOptions, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new CliFailureException($"no answer from the server on the {settings.DescribeServer()} within {seconds} s: is 'asyncmcp serve' (or another MCP server) running there? (--timeout waits longer)", ex);
            }
            catch (HttpRequestException ex)
            {
                throw new CliFailureException($"the {settings.DescribeServer()} cannot be reached: {CliMessages.Chain(ex)}", ex);
            }
            catch (SnsRequestException ex) when (ex.ErrorCode == "NotFound")
            {
                throw new CliFailureException($"the {settings.DescribeServer()} does not exist ({ex.Message}); give an existing topic's ARN, or its name to create it (--server-topic).", ex);
            }

            var connection = new ClientConnection(client, loggerFactory, owned, answerWait, wait, seconds, settings.DescribeServer());
            connection.RestartWait();
            return connection;
        }
        catch
        {
            answerWait.Dispose();
            owned?.Dispose();
            loggerFactory.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().ConfigureAwait(false);
        _answerWait.Dispose();
        _owned?.Dispose();
        _loggerFactory.Dispose();
    }
}
