using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>asyncmcp status</c>: what the queues of a deployment hold now (visible, in flight, delayed), their dead-letter
/// queues' depth and the age of the oldest dead letter; once, live (<c>--watch</c>), or as JSON for scripts.
/// </summary>
internal static class StatusCommand
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of a table (with --watch, one JSON object a line per refresh)." };

    private static readonly Option<bool> s_watch = new("--watch") { Description = "Refresh the view until stopped (Ctrl+C)." };

    private static readonly Option<double> s_interval = new("--interval") { Description = "Seconds between refreshes with --watch.", DefaultValueFactory = _ => 2 };

    private static readonly Option<string[]> s_queues = new("--queue") { Description = "Any other queue to show, a URL or a name (repeatable)." };

    public static Command Create()
    {
        var status = new Command("status", "Show what the queues named by the usual flags or config hold: messages visible and in flight, the dead-letter queue's depth and its oldest message's age. Topics hold no messages: name their queues (--server-queue, --client-queue).")
        {
            TransportSettings.RequestQueue,
            TransportSettings.ResponseQueue,
            TransportSettings.ServerQueue,
            TransportSettings.ClientQueue,
            s_queues,
            s_watch,
            s_interval,
            Json,
            TransportSettings.EndpointUrl,
            TransportSettings.Region,
        };
        status.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var named = new List<(string Value, string Role, Option Option)>();
            foreach (var (option, role) in new[] { (TransportSettings.RequestQueue, "request"), (TransportSettings.ResponseQueue, "response"), (TransportSettings.ServerQueue, "server"), (TransportSettings.ClientQueue, "client") })
            {
                if (TransportSettings.OptionalQueue(cli, option) is { } value)
                {
                    named.Add((value, role, option));
                }
            }

            foreach (var value in cli.Get(s_queues) ?? [])
            {
                named.Add((TransportSettings.CheckQueue(cli, s_queues, value)!, "other", s_queues));
            }

            if (named.Count == 0)
            {
                throw new CliUsageException("name at least one queue: --request-queue, --response-queue, --server-queue, --client-queue or --queue (or their environment variables or config keys).");
            }

            var interval = cli.Get(s_interval);
            if (interval is < 0.2 or > 3600)
            {
                throw new CliUsageException($"--interval must be from 0.2 to 3600 seconds (was {interval.ToString(CultureInfo.InvariantCulture)}{cli.Origin(s_interval)}).");
            }

            var (endpoint, region) = TransportSettings.ReadAws(cli);
            using var sqs = TransportSettings.CreateSqs(endpoint, region);
            var inspector = new QueueInspector(sqs);
            var queues = new List<(string Url, string Role)>();
            foreach (var (value, role, option) in named)
            {
                queues.Add((await inspector.ResolveAsync(value, option.Name, cancellationToken), role));
            }

            async Task<IReadOnlyList<QueueStatus>> ReadAsync() =>
                await Task.WhenAll(queues.Select(q => inspector.StatusAsync(q.Url, q.Role, cancellationToken)));

            var json = cli.Get(Json);
            if (!cli.Get(s_watch))
            {
                var once = await ReadAsync();
                if (json)
                {
                    Console.WriteLine(ToJson(once).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    AnsiConsole.Write(ToTable(once));
                }

                return CliRuntime.Ok;
            }

            var every = TimeSpan.FromSeconds(interval);
            if (json)
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    Console.WriteLine(ToJson(await ReadAsync()).ToJsonString());
                    await Task.Delay(every, cancellationToken);
                }

                return CliRuntime.Ok;
            }

            await AnsiConsole.Live(ToTable(await ReadAsync())).StartAsync(async live =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(every, cancellationToken);
                    live.UpdateTarget(ToTable(await ReadAsync()));
                }
            });
            return CliRuntime.Ok;
        }));
        return status;
    }

    internal static JsonObject ToJson(IReadOnlyList<QueueStatus> queues) => new()
    {
        ["time"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["queues"] = new JsonArray([.. queues.Select(q => (JsonNode)new JsonObject
        {
            ["name"] = q.Name,
            ["url"] = q.Url,
            ["role"] = q.Role,
            ["visible"] = q.Visible,
            ["inFlight"] = q.InFlight,
            ["delayed"] = q.Delayed,
            ["deadLetterQueueUrl"] = q.DeadLetterQueueUrl,
            ["deadLetters"] = q.DeadLetterDepth,
            ["oldestDeadLetterAgeSeconds"] = q.OldestDeadLetterAgeSeconds is { } age ? Math.Round(age, 1) : null,
        })]),
    };

    private static Table ToTable(IReadOnlyList<QueueStatus> queues)
    {
        var table = new Table().Title($"asyncmcp status at {DateTimeOffset.Now:HH:mm:ss}")
            .AddColumn("queue").AddColumn("role").AddColumn(new TableColumn("visible").RightAligned()).AddColumn(new TableColumn("in flight").RightAligned())
            .AddColumn(new TableColumn("delayed").RightAligned()).AddColumn(new TableColumn("dead letters").RightAligned()).AddColumn(new TableColumn("oldest dead letter").RightAligned());
        foreach (var q in queues)
        {
            var dead = q.DeadLetterDepth is { } depth ? (depth > 0 ? $"[red]{depth}[/]" : "0") : "[grey]no DLQ[/]";
            var oldest = q.OldestDeadLetterAgeSeconds is { } age ? Age(age) : "-";
            table.AddRow(Markup.Escape(q.Name), q.Role, q.Visible.ToString(CultureInfo.InvariantCulture), q.InFlight.ToString(CultureInfo.InvariantCulture), q.Delayed.ToString(CultureInfo.InvariantCulture), dead, oldest);
        }

        return table;
    }

    private static string Age(double seconds) =>
        seconds < 120 ? $"{seconds:F0} s" : seconds < 7200 ? $"{seconds / 60:F0} min" : seconds < 172_800 ? $"{seconds / 3600:F1} h" : $"{seconds / 86_400:F1} d";
}
