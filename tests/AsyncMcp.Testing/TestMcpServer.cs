using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Testing;

/// <summary>What the test server's tools observed, for assertions.</summary>
public sealed class TestServerState
{
    private int _running;
    private int _maxRunning;
    private int _slowStarted;
    private int _slowCompleted;
    private int _slowCancelled;

    public int MaxConcurrentHolds => Volatile.Read(ref _maxRunning);

    public int RunningHolds => Volatile.Read(ref _running);

    public int SlowStarted => Volatile.Read(ref _slowStarted);

    public int SlowCompleted => Volatile.Read(ref _slowCompleted);

    public int SlowCancelled => Volatile.Read(ref _slowCancelled);

    /// <summary>Told of each event ("slow-started", "slow-completed", ...), for a server in another process to report.</summary>
    public Action<string>? Observer { get; init; }

    /// <summary>Released by tests to let <c>hold</c> calls finish.</summary>
    public TaskCompletionSource ReleaseHolds { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void EnterHold()
    {
        var now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, now, seen) != seen)
        {
        }
    }

    internal void ExitHold() => Interlocked.Decrement(ref _running);

    internal void SlowStart()
    {
        Interlocked.Increment(ref _slowStarted);
        Observer?.Invoke("slow-started");
    }

    internal void SlowComplete()
    {
        Interlocked.Increment(ref _slowCompleted);
        Observer?.Invoke("slow-completed");
    }

    internal void SlowCancel()
    {
        Interlocked.Increment(ref _slowCancelled);
        Observer?.Invoke("slow-cancelled");
    }
}

/// <summary>
/// An MCP server definition that exercises every capability the transports must carry: tools with progress,
/// cancellation and logging, server-to-client sampling and elicitation, resources, prompts and completions.
/// </summary>
public static class TestMcpServer
{
    public static McpServerOptions CreateOptions(TestServerState? state = null)
    {
        state ??= new TestServerState();
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "asyncmcp-test-server", Version = "1.0.0" },
            ToolCollection = [],
            PromptCollection = [],
            ResourceCollection = [],
        };

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Echoes the message back.")] (string message) => $"Echo: {message}",
            new() { Name = "echo" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Adds two numbers.")] (int a, int b) => a + b,
            new() { Name = "add" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Runs for steps × delayMs, reporting progress after each step; honours cancellation.")]
            async (int steps, int delayMs, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken) =>
            {
                state.SlowStart();
                try
                {
                    for (var i = 1; i <= steps; i++)
                    {
                        await Task.Delay(delayMs, cancellationToken);
                        progress.Report(new ProgressNotificationValue { Progress = i, Total = steps, Message = $"step {i} of {steps}" });
                    }
                }
                catch (OperationCanceledException)
                {
                    state.SlowCancel();
                    throw;
                }

                state.SlowComplete();
                return $"done after {steps} steps";
            },
            new() { Name = "slow" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Reports progress count times as fast as it can (fire-and-forget), then returns.")]
            (int count, IProgress<ProgressNotificationValue> progress) =>
            {
                for (var i = 1; i <= count; i++)
                {
                    progress.Report(new ProgressNotificationValue { Progress = i, Total = count });
                }

                return $"reported {count}";
            },
            new() { Name = "burst" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Waits until the test releases it, counting how many run at once.")]
            async (CancellationToken cancellationToken) =>
            {
                state.EnterHold();
                try
                {
                    await state.ReleaseHolds.Task.WaitAsync(cancellationToken);
                    return "released";
                }
                finally
                {
                    state.ExitHold();
                }
            },
            new() { Name = "hold" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Sends a log notification, then returns.")]
            async (McpServer server, string message, CancellationToken cancellationToken) =>
            {
                await server.SendNotificationAsync(
                    NotificationMethods.LoggingMessageNotification,
                    new LoggingMessageNotificationParams { Level = LoggingLevel.Warning, Logger = "test", Data = JsonSerializer.SerializeToElement(message) },
                    cancellationToken: cancellationToken);
                return "logged";
            },
            new() { Name = "log" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Asks the client's model to answer the prompt (sampling).")]
            async (McpServer server, string prompt, CancellationToken cancellationToken) =>
            {
                var result = await server.SampleAsync(
                    new CreateMessageRequestParams
                    {
                        Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                        MaxTokens = 100,
                    },
                    cancellationToken);
                return $"model {result.Model} said: {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}";
            },
            new() { Name = "sample" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Asks the user for their name (elicitation).")]
            async (McpServer server, CancellationToken cancellationToken) =>
            {
                var result = await server.ElicitAsync(
                    new ElicitRequestParams
                    {
                        Message = "What is your name?",
                        RequestedSchema = new ElicitRequestParams.RequestSchema
                        {
                            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
                            {
                                ["name"] = new ElicitRequestParams.StringSchema { Description = "Your name" },
                            },
                        },
                    },
                    cancellationToken);
                return result.IsAccepted && result.Content is { } content && content.TryGetValue("name", out var name)
                    ? $"hello {name.GetString()}"
                    : $"elicitation {result.Action}";
            },
            new() { Name = "elicit" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Asks the client's model with an input_required result (the explicit form), then answers from the retry.")]
            (RequestContext<CallToolRequestParams> context, string prompt) =>
            {
                if (context.Params?.InputResponses is { } answers && answers.TryGetValue("model", out var answer) &&
                    answer.Deserialize(InputResponse.CreateMessageResultJsonTypeInfo) is { } result)
                {
                    return $"model {result.Model} said: {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}";
                }

                throw new InputRequiredException(new Dictionary<string, InputRequest>
                {
                    ["model"] = InputRequest.ForSampling(new CreateMessageRequestParams
                    {
                        Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
                        MaxTokens = 100,
                    }),
                });
            },
            new() { Name = "sample_explicit" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Asks the user for their name with an input_required result (the explicit form), then answers from the retry.")]
            (RequestContext<CallToolRequestParams> context) =>
            {
                if (context.Params?.InputResponses is { } answers && answers.TryGetValue("name", out var answer) &&
                    answer.Deserialize(InputResponse.ElicitResultJsonTypeInfo) is { } result)
                {
                    return result.IsAccepted && result.Content is { } content && content.TryGetValue("name", out var name)
                        ? $"hello {name.GetString()}"
                        : $"elicitation {result.Action}";
                }

                throw new InputRequiredException(new Dictionary<string, InputRequest>
                {
                    ["name"] = InputRequest.ForElicitation(new ElicitRequestParams
                    {
                        Message = "What is your name?",
                        RequestedSchema = new ElicitRequestParams.RequestSchema
                        {
                            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
                            {
                                ["name"] = new ElicitRequestParams.StringSchema { Description = "Your name" },
                            },
                        },
                    }),
                });
            },
            new() { Name = "elicit_explicit" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Returns a string of the given length.")] (int length) => new string('x', length),
            new() { Name = "big" }));

        options.ToolCollection.Add(McpServerTool.Create(
            [Description("Always fails.")] string () => throw new InvalidOperationException("this tool always fails"),
            new() { Name = "fail" }));

        options.ResourceCollection.Add(McpServerResource.Create(
            () => "static resource text",
            new() { UriTemplate = "test://static", Name = "static", MimeType = "text/plain" }));

        options.ResourceCollection.Add(McpServerResource.Create(
            (string id) => $"item {id}",
            new() { UriTemplate = "test://items/{id}", Name = "item", MimeType = "text/plain" }));

        options.PromptCollection.Add(McpServerPrompt.Create(
            [Description("Greets someone.")] (string name) => $"Please greet {name} warmly.",
            new() { Name = "greeting" }));

        options.Handlers.CompleteHandler = (request, _) =>
        {
            var argument = request.Params?.Argument;
            var values = argument?.Name == "name"
                ? new[] { "Alice", "Albert", "Bob" }.Where(v => v.StartsWith(argument.Value, StringComparison.OrdinalIgnoreCase)).ToList()
                : [];
            return ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } });
        };

        return options;
    }
}
