using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The fixtures the conformance suite's scenarios of protocol revision 2026-07-28 ask for (input-required results,
/// per-request capabilities and log level, list changes for <c>subscriptions/listen</c>, <c>x-mcp-header</c>
/// parameters), written from the suite's requirement texts. Every input-required tool uses the explicit form
/// (<see cref="InputRequiredException"/>), which needs no memory between rounds: what a later round must know travels
/// in an integrity-protected <c>requestState</c>.
/// </summary>
internal static partial class ConformanceFixtures
{
    private static readonly byte[] s_stateKey = RandomNumberGenerator.GetBytes(32);

    private static void AddModernTools(McpServerPrimitiveCollection<McpServerTool> tools, McpServerPrimitiveCollection<McpServerPrompt> prompts)
    {
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var answer = Answer(context.Params, "user_name") ?? throw Ask(null, ("user_name", AskName("What is your name?")));
                return $"Hello, {Field(Elicited(answer), "name")}!";
            },
            new() { Name = "test_input_required_result_elicitation", Description = "Asks for the user's name with an input_required result." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var answer = Answer(context.Params, "capital_question") ?? throw Ask(null, ("capital_question", AskModel("What is the capital of France?", 100)));
                return $"The model said: {Sampled(answer)}";
            },
            new() { Name = "test_input_required_result_sampling", Description = "Asks the client's model with an input_required result." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var answer = Answer(context.Params, "client_roots") ?? throw Ask(null, ("client_roots", InputRequest.ForRootsList(new ListRootsRequestParams())));
                return $"Roots: {string.Join(", ", Roots(answer))}";
            },
            new() { Name = "test_input_required_result_list_roots", Description = "Asks for the client's roots with an input_required result." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                if (context.Params?.RequestState is not { } state || Answer(context.Params, "confirm") is not { } answer)
                {
                    throw Ask(Sign("request_state:confirm"), ("confirm", AskConfirm()));
                }

                Verify(state, "request_state:confirm");
                return $"state-ok: confirmed={Field(Elicited(answer), "ok")}";
            },
            new() { Name = "test_input_required_result_request_state", Description = "Asks for a confirmation and keeps its state in requestState." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var parameters = context.Params;
                if (parameters?.RequestState is not { } state || Answer(parameters, "user_name") is not { } name || Answer(parameters, "greeting") is not { } greeting || Answer(parameters, "client_roots") is not { } roots)
                {
                    throw Ask(
                        Sign("multiple_inputs"),
                        ("user_name", AskName("What is your name?")),
                        ("greeting", AskModel("Generate a greeting", 50)),
                        ("client_roots", InputRequest.ForRootsList(new ListRootsRequestParams())));
                }

                Verify(state, "multiple_inputs");
                return $"{Sampled(greeting)} {Field(Elicited(name), "name")} ({Roots(roots).Count} roots)";
            },
            new() { Name = "test_input_required_result_multiple_inputs", Description = "Asks for a name, a greeting and the roots at once." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var parameters = context.Params;
                if (parameters?.RequestState is { } state && state.StartsWith("round2:", StringComparison.Ordinal))
                {
                    var name = Verify(state, "round2:")["round2:".Length..];
                    var color = Answer(parameters, "step2") is { } answer ? Field(Elicited(answer), "color") : throw Ask(state, ("step2", AskColor()));
                    return $"{name} likes {color}";
                }

                if (parameters?.RequestState is { } first && Answer(parameters, "step1") is { } step1)
                {
                    Verify(first, "round1");
                    throw Ask(Sign("round2:" + Field(Elicited(step1), "name")), ("step2", AskColor()));
                }

                throw Ask(Sign("round1"), ("step1", AskName("Step 1: What is your name?")));
            },
            new() { Name = "test_input_required_result_multi_round", Description = "Asks twice, one round after the other." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                if (context.Params?.RequestState is not { } state)
                {
                    throw Ask(Sign("tampered_state"), ("confirm", AskConfirm()));
                }

                Verify(state, "tampered_state");
                return "state verified";
            },
            new() { Name = "test_input_required_result_tampered_state", Description = "Signs its requestState and refuses one that was changed." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                if (context.Params?.InputResponses is { Count: > 0 })
                {
                    return "answered";
                }

                var capabilities = context.Server.ClientCapabilities;
                var asks = new List<(string, InputRequest)>();
                if (capabilities?.Elicitation is not null)
                {
                    asks.Add(("user_name", AskName("What is your name?")));
                }

                if (capabilities?.Sampling is not null)
                {
                    asks.Add(("capital_question", AskModel("What is the capital of France?", 100)));
                }

                if (capabilities?.Roots is not null)
                {
                    asks.Add(("client_roots", InputRequest.ForRootsList(new ListRootsRequestParams())));
                }

                return asks.Count == 0 ? "nothing the client can answer" : throw Ask(null, [.. asks]);
            },
            new() { Name = "test_input_required_result_capabilities", Description = "Asks only for what the client declared it can answer." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) => context.Server.ClientCapabilities?.Sampling is null
                ? throw new MissingRequiredClientCapabilityException(new ClientCapabilities { Sampling = new SamplingCapability() }, "This tool needs the client's sampling capability.")
                : "sampling is declared",
            new() { Name = "test_missing_capability", Description = "Needs the sampling capability." }));
        tools.Add(McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) =>
            {
                var answer = Answer(context.Params, "user_name") ?? throw Ask(null, ("user_name", AskName("What is your name?")));
                return $"Hello, {Field(Elicited(answer), "name")}!";
            },
            new() { Name = "test_streaming_elicitation", Description = "Asks for input on its own response stream (an input_required result, never a request)." }));
        tools.Add(McpServerTool.Create(
            async (RequestContext<CallToolRequestParams> context, CancellationToken ct) =>
            {
                // Revision 2026-07-28 carries the log level in each request; without one the client wants no logs.
                if (context.JsonRpcMessage.Context?.LogLevel is not null || context.Server.LoggingLevel is not null)
                {
                    await context.Server.SendNotificationAsync(
                        NotificationMethods.LoggingMessageNotification,
                        new LoggingMessageNotificationParams { Level = LoggingLevel.Info, Logger = "conformance", Data = JsonSerializer.SerializeToElement("logged at the client's level") },
                        cancellationToken: ct);
                }

                return "done";
            },
            new() { Name = "test_logging_tool", Description = "Logs only when the client asked for a log level." }));
        tools.Add(McpServerTool.Create(
            () =>
            {
                // Adding and removing a tool leaves the list as it was and notifies a change each time.
                var extra = McpServerTool.Create(() => "extra", new() { Name = "test_dynamic_tool" });
                tools.Add(extra);
                tools.Remove(extra);
                return "tool list changed";
            },
            new() { Name = "test_trigger_tool_change", Description = "Changes the tool list." }));
        tools.Add(McpServerTool.Create(
            () =>
            {
                var extra = McpServerPrompt.Create(() => "extra", new() { Name = "test_dynamic_prompt" });
                prompts.Add(extra);
                prompts.Remove(extra);
                return "prompt list changed";
            },
            new() { Name = "test_trigger_prompt_change", Description = "Changes the prompt list." }));
        var headerTool = McpServerTool.Create((string region, string? query) => $"region {region}, query {query}", new() { Name = "test_header_param", Description = "Takes its region parameter in an Mcp-Param-Region header too." });
        headerTool.ProtocolTool.InputSchema = JsonSerializer.Deserialize<JsonElement>(
            """
            {"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"query":{"type":"string"}},"required":["region"]}
            """);
        tools.Add(headerTool);

        prompts.Add(McpServerPrompt.Create(
            (RequestContext<GetPromptRequestParams> context) =>
            {
                var answer = Answer(context.Params, "user_context") ?? throw Ask(
                    null,
                    ("user_context", InputRequest.ForElicitation(new ElicitRequestParams
                    {
                        Message = "What context should the prompt use?",
                        RequestedSchema = new ElicitRequestParams.RequestSchema
                        {
                            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["context"] = new ElicitRequestParams.StringSchema() },
                            Required = ["context"],
                        },
                    })));
                return new GetPromptResult { Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = $"Use this context: {Field(Elicited(answer), "context")}" } }] };
            },
            new() { Name = "test_input_required_result_prompt", Description = "A prompt that asks for its context first." }));
    }

    private static InputResponse? Answer(RequestParams? parameters, string key) =>
        parameters?.InputResponses is { } responses && responses.TryGetValue(key, out var response) ? response : null;

    private static InputRequiredException Ask(string? state, params (string Key, InputRequest Request)[] asks) =>
        new(asks.ToDictionary(a => a.Key, a => a.Request), state);

    private static InputRequest AskName(string message) => InputRequest.ForElicitation(new ElicitRequestParams
    {
        Message = message,
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["name"] = new ElicitRequestParams.StringSchema() },
            Required = ["name"],
        },
    });

    private static InputRequest AskColor() => InputRequest.ForElicitation(new ElicitRequestParams
    {
        Message = "Step 2: What is your favorite color?",
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["color"] = new ElicitRequestParams.StringSchema() },
            Required = ["color"],
        },
    });

    private static InputRequest AskConfirm() => InputRequest.ForElicitation(new ElicitRequestParams
    {
        Message = "Please confirm",
        RequestedSchema = new ElicitRequestParams.RequestSchema
        {
            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition> { ["ok"] = new ElicitRequestParams.BooleanSchema() },
            Required = ["ok"],
        },
    });

    private static InputRequest AskModel(string text, int maxTokens) => InputRequest.ForSampling(new CreateMessageRequestParams
    {
        Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = text }] }],
        MaxTokens = maxTokens,
    });

    /// <summary>An elicitation answer, or <c>-32602</c> when the client sent something else.</summary>
    private static ElicitResult Elicited(InputResponse answer) =>
        Read(answer, InputResponse.ElicitResultJsonTypeInfo) is { Action: not null } result ? result : throw Invalid("an elicitation result");

    private static string Sampled(InputResponse answer) =>
        Read(answer, InputResponse.CreateMessageResultJsonTypeInfo) is { } result
            ? string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))
            : throw Invalid("a sampling result");

    private static List<string> Roots(InputResponse answer) =>
        Read(answer, InputResponse.ListRootsResultJsonTypeInfo) is { } result ? [.. result.Roots.Select(r => r.Uri)] : throw Invalid("a roots result");

    private static string Field(ElicitResult result, string name) =>
        result.Content is { } content && content.TryGetValue(name, out var value) ? value.ToString() : $"(no {name}: {result.Action})";

    private static T? Read<T>(InputResponse answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        if (answer.RawValue.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        try
        {
            return answer.Deserialize(type);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    private static McpProtocolException Invalid(string what) => new($"The input response is not {what}.", McpErrorCode.InvalidParams);

    /// <summary>A requestState the client cannot change unnoticed: the payload and its HMAC.</summary>
    private static string Sign(string payload) =>
        payload + "." + Convert.ToBase64String(HMACSHA256.HashData(s_stateKey, Encoding.UTF8.GetBytes(payload)));

    /// <summary>The payload of a requestState this fixture signed, starting with <paramref name="expected"/>; <c>-32602</c> otherwise.</summary>
    private static string Verify(string state, string expected)
    {
        var dot = state.LastIndexOf('.');
        if (dot > 0 && state.StartsWith(expected, StringComparison.Ordinal) &&
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(state[..dot])), Encoding.ASCII.GetBytes(state)))
        {
            return state[..dot];
        }

        throw new McpProtocolException("The requestState failed its integrity check.", McpErrorCode.InvalidParams);
    }
}
