using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace AsyncMcp.Cli.Commands;

/// <summary>
/// <c>asyncmcp dlq list|redrive</c>: the requests a queue's redrive policy moved to its dead-letter queue, and moving
/// them back to the queue they came from (all of them with SQS's own move task where the broker has it, or the ones
/// named by message id).
/// </summary>
internal static class DlqCommand
{
    private static readonly Option<string?> s_queue = new("--queue") { Description = "The source queue (URL or name) whose dead-letter queue to read; defaults to --request-queue or --server-queue." };

    private static readonly Option<int> s_max = new("--max") { Description = "The most dead letters to read.", DefaultValueFactory = _ => 100 };

    public static Command Create()
    {
        var showBody = new Option<bool>("--show-body") { Description = "Also print each message's body (it may hold the request's arguments)." };
        var list = new Command("list", "List the dead-lettered messages of a queue: message id, method, JSON-RPC id, session, receive count, first receive and send times. Messages are held for 30 s while they are read, then handed back.")
        {
            s_queue, TransportSettings.RequestQueue, TransportSettings.ServerQueue, s_max, showBody, StatusCommand.Json, TransportSettings.EndpointUrl, TransportSettings.Region,
        };
        list.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var (source, option) = Source(cli);
            var max = Max(cli);
            var (endpoint, region) = TransportSettings.ReadAws(cli);
            using var sqs = TransportSettings.CreateSqs(endpoint, region);
            var inspector = new QueueInspector(sqs);
            var sourceUrl = await inspector.ResolveAsync(source, option.Name, cancellationToken);
            var deadUrl = await inspector.DeadLetterQueueOfAsync(sourceUrl, option.Name, cancellationToken);
            var letters = await inspector.ReadDeadLettersAsync(deadUrl, max, _ => false, cancellationToken);
            var withBody = cli.Get(showBody);
            if (cli.Get(StatusCommand.Json))
            {
                var output = new JsonObject
                {
                    ["queueUrl"] = sourceUrl,
                    ["deadLetterQueueUrl"] = deadUrl,
                    ["messages"] = new JsonArray([.. letters.Select(l => (JsonNode)ToJson(l, withBody))]),
                };
                Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return CliRuntime.Ok;
            }

            var table = new Table().Title($"{letters.Count} dead letters of {Markup.Escape(sourceUrl)}")
                .AddColumn("message id").AddColumn("method").AddColumn("id").AddColumn("session").AddColumn(new TableColumn("receives").RightAligned()).AddColumn("first received");
            if (withBody)
            {
                table.AddColumn("body");
            }

            foreach (var l in letters)
            {
                var row = new List<string> { l.MessageId, l.Method ?? "-", l.RequestId ?? "-", l.SessionId ?? "-", l.ReceiveCount.ToString(CultureInfo.InvariantCulture), l.FirstReceived?.ToString("u", CultureInfo.InvariantCulture) ?? "-" };
                if (withBody)
                {
                    row.Add(l.Body);
                }

                table.AddRow([.. row.Select(Markup.Escape)]);
            }

            AnsiConsole.Write(table);
            return CliRuntime.Ok;
        }));

        var ids = new Option<string[]>("--message-id") { Description = "A dead letter to move back, by message id (repeatable)." };
        var all = new Option<bool>("--all") { Description = "Move every dead letter back (with SQS's StartMessageMoveTask where the broker offers it)." };
        var redrive = new Command("redrive", "Move dead-lettered messages back to the queue they came from, unchanged: all of them (--all) or those named (--message-id).")
        {
            s_queue, TransportSettings.RequestQueue, TransportSettings.ServerQueue, ids, all, s_max, StatusCommand.Json, TransportSettings.EndpointUrl, TransportSettings.Region,
        };
        redrive.SetAction((result, cancellationToken) => CliRuntime.RunAsync(result, async () =>
        {
            var cli = CliSettings.Load(result);
            var (source, option) = Source(cli);
            var selected = new HashSet<string>(cli.Get(ids) ?? [], StringComparer.Ordinal);
            var everything = cli.Get(all);
            if (everything == (selected.Count > 0))
            {
                throw new CliUsageException("name what to move back: --all, or one or more --message-id (not both).");
            }

            var max = Max(cli);
            var (endpoint, region) = TransportSettings.ReadAws(cli);
            using var sqs = TransportSettings.CreateSqs(endpoint, region);
            var inspector = new QueueInspector(sqs);
            var sourceUrl = await inspector.ResolveAsync(source, option.Name, cancellationToken);
            var deadUrl = await inspector.DeadLetterQueueOfAsync(sourceUrl, option.Name, cancellationToken);
            var output = new JsonObject { ["queueUrl"] = sourceUrl, ["deadLetterQueueUrl"] = deadUrl };
            if (everything && await inspector.TryStartMoveTaskAsync(deadUrl, sourceUrl, cancellationToken) is { } handle)
            {
                output["method"] = "StartMessageMoveTask";
                output["taskHandle"] = handle;
                Report(cli, output, $"SQS moves every dead letter back to {sourceUrl} (move task {handle}).");
                return CliRuntime.Ok;
            }

            // The broker has no move task (an emulator), or only some are to move: each is sent back and then deleted.
            var letters = await inspector.ReadDeadLettersAsync(deadUrl, max, l => everything || selected.Contains(l.MessageId), cancellationToken);
            var moving = letters.Where(l => everything || selected.Contains(l.MessageId)).ToList();
            var moved = new JsonArray();
            foreach (var letter in moving)
            {
                await inspector.MoveBackAsync(deadUrl, sourceUrl, letter, cancellationToken);
                moved.Add(letter.MessageId);
            }

            var missing = selected.Except(moving.Select(l => l.MessageId), StringComparer.Ordinal).ToList();
            output["method"] = everything ? "receive, send, delete (the broker has no StartMessageMoveTask)" : "receive, send, delete";
            output["moved"] = moved;
            output["notFound"] = new JsonArray([.. missing.Select(m => (JsonNode)m)]);
            Report(cli, output, $"Moved {moved.Count} dead letters back to {sourceUrl}{(everything ? " one by one (the broker has no StartMessageMoveTask)" : string.Empty)}.{(missing.Count > 0 ? $" Not found: {string.Join(", ", missing)}." : string.Empty)}");
            return missing.Count > 0 ? CliRuntime.Failed : CliRuntime.Ok;
        }));

        return new Command("dlq", "Read a queue's dead-letter queue and move its messages back.") { list, redrive };
    }

    private static JsonObject ToJson(DeadLetter letter, bool withBody)
    {
        var json = new JsonObject
        {
            ["messageId"] = letter.MessageId,
            ["method"] = letter.Method,
            ["id"] = letter.RequestId,
            ["sessionId"] = letter.SessionId,
            ["receiveCount"] = letter.ReceiveCount,
            ["firstReceived"] = letter.FirstReceived?.ToString("O", CultureInfo.InvariantCulture),
            ["sent"] = letter.Sent?.ToString("O", CultureInfo.InvariantCulture),
        };
        if (withBody)
        {
            json["body"] = letter.Body;
        }

        return json;
    }

    private static void Report(CliSettings cli, JsonObject output, string sentence)
    {
        if (cli.Get(StatusCommand.Json))
        {
            Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            Console.WriteLine(sentence);
        }
    }

    private static (string Source, Option Option) Source(CliSettings cli)
    {
        foreach (var option in new[] { s_queue, TransportSettings.RequestQueue, TransportSettings.ServerQueue })
        {
            if (TransportSettings.OptionalQueue(cli, option) is { } value)
            {
                return (value, option);
            }
        }

        throw new CliUsageException("name the queue whose dead letters to read: --queue, --request-queue or --server-queue.");
    }

    private static int Max(CliSettings cli)
    {
        var max = cli.Get(s_max);
        return max is >= 1 and <= 10_000 ? max : throw new CliUsageException($"--max must be from 1 to 10000 (was {max}{cli.Origin(s_max)}).");
    }
}
