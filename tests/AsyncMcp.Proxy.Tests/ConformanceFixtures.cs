using System.Text.Json;
using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// A C# MCP server with the fixture tools, resources and prompts the official conformance suite
/// (<c>@modelcontextprotocol/conformance</c>, server scenarios) asks for, written from the suite's own requirement texts.
/// </summary>
internal static partial class ConformanceFixtures
{
    // A 1×1 red PNG and a tiny WAV header with no samples.
    private static readonly byte[] s_png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");
    private static readonly byte[] s_wav = Convert.FromBase64String("UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=");

    public static McpServerOptions Create()
    {
        var options = new McpServerOptions();
        Configure(options, CreateTaskOptions(), worker: null);
        return options;
    }

    /// <summary>
    /// What sets up a host's options with the fixtures (<c>AddMcpServer(ConformanceFixtures.Configurer())</c>). The SDK's
    /// HTTP endpoint runs it again for every stateless request, on fresh options: the tasks options, and so the task
    /// store, are made once here, outside it, or a task would be gone by the next request.
    /// </summary>
    public static Action<McpServerOptions> Configurer()
    {
        var tasks = CreateTaskOptions();
        McpTaskWorker? worker = null;
        var gate = new Lock();
        return options =>
        {
            lock (gate)
            {
                // One runtime and worker for every options made: the first call creates them, the others attach to them.
                worker = Configure(options, tasks, worker);
            }
        };
    }

    /// <summary>Fills <paramref name="options"/>; the task worker they share, created on the first call.</summary>
    private static McpTaskWorker Configure(McpServerOptions options, McpTasksServerOptions tasks, McpTaskWorker? worker)
    {
        options.ServerInfo = new Implementation { Name = "asyncmcp-conformance-fixtures", Version = "1.0.0" };
        options.Capabilities = new ServerCapabilities
        {
            Logging = new LoggingCapability(),
            Completions = new CompletionsCapability(),
            Resources = new ResourcesCapability { Subscribe = true, ListChanged = true },
        };
        options.ToolCollection = [];
        options.PromptCollection = [];
        options.ResourceCollection = [];
        AddTools(options.ToolCollection);
        AddModernTools(options.ToolCollection, options.PromptCollection);
        AddTaskTools(options.ToolCollection);
        AddResources(options.ResourceCollection);
        AddPrompts(options.PromptCollection);
        options.Handlers.CompleteHandler = (_, _) => ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = ["paris", "park", "party"], Total = 3, HasMore = false } });
        options.Handlers.SubscribeToResourcesHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
        options.Handlers.UnsubscribeFromResourcesHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
        options.Handlers.SetLoggingLevelHandler = (_, _) => ValueTask.FromResult(new EmptyResult());
        if (worker is null)
        {
            return options.AddTasks(tasks);
        }

        options.AddTasks(worker);
        return worker;
    }

    private static void AddTools(McpServerPrimitiveCollection<McpServerTool> tools)
    {
        tools.Add(McpServerTool.Create(() => "This is a simple text response for testing.", new() { Name = "test_simple_text", Description = "Returns simple text." }));
        tools.Add(McpServerTool.Create(() => new CallToolResult { Content = [ImageContentBlock.FromBytes(s_png, "image/png")] }, new() { Name = "test_image_content", Description = "Returns an image." }));
        tools.Add(McpServerTool.Create(() => new CallToolResult { Content = [AudioContentBlock.FromBytes(s_wav, "audio/wav")] }, new() { Name = "test_audio_content", Description = "Returns audio." }));
        tools.Add(McpServerTool.Create(
            () => new CallToolResult { Content = [new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = "test://embedded-resource", MimeType = "text/plain", Text = "This is an embedded resource content." } }] },
            new() { Name = "test_embedded_resource", Description = "Returns an embedded resource." }));
        tools.Add(McpServerTool.Create(
            () => new CallToolResult
            {
                Content =
                [
                    new TextContentBlock { Text = "Multiple content types test:" },
                    ImageContentBlock.FromBytes(s_png, "image/png"),
                    new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = "test://mixed-content-resource", MimeType = "application/json", Text = "{\"test\":\"data\",\"value\":123}" } },
                ],
            },
            new() { Name = "test_multiple_content_types", Description = "Returns text, an image and a resource." }));
        tools.Add(McpServerTool.Create(
            async (McpServer server, CancellationToken ct) =>
            {
                foreach (var message in new[] { "Tool execution started", "Tool processing data", "Tool execution completed" })
                {
                    await server.SendNotificationAsync(
                        NotificationMethods.LoggingMessageNotification,
                        new LoggingMessageNotificationParams { Level = LoggingLevel.Info, Logger = "conformance", Data = JsonSerializer.SerializeToElement(message) },
                        cancellationToken: ct);
                    await Task.Delay(50, ct);
                }

                return "Tool with logging executed successfully";
            },
            new() { Name = "test_tool_with_logging", Description = "Sends three log messages." }));
        tools.Add(McpServerTool.Create(
            async (RequestContext<CallToolRequestParams> context, CancellationToken ct) =>
            {
                // Awaited, not IProgress: IProgress.Report is fire-and-forget in the SDK and the last notice could
                // otherwise race the result.
                foreach (var value in new[] { 0, 50, 100 })
                {
                    if (context.Params?.ProgressToken is { } token)
                    {
                        await context.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = value, Total = 100 }, cancellationToken: ct);
                    }

                    if (value < 100)
                    {
                        await Task.Delay(50, ct);
                    }
                }

                return "Tool with progress executed successfully";
            },
            new() { Name = "test_tool_with_progress", Description = "Reports progress 0, 50, 100." }));
        tools.Add(McpServerTool.Create(
            string () => throw new McpException("This tool intentionally returns an error for testing"),
            new() { Name = "test_error_handling", Description = "Always fails." }));
        tools.Add(McpServerTool.Create(
            async (McpServer server, string prompt, CancellationToken ct) =>
            {
                var result = await server.SampleAsync(new CreateMessageRequestParams { Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }], MaxTokens = 100 }, ct);
                return $"LLM response: {string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}";
            },
            new() { Name = "test_sampling", Description = "Asks the client's model." }));
        tools.Add(McpServerTool.Create(
            async (McpServer server, string message, CancellationToken ct) =>
            {
                var result = await server.ElicitAsync(
                    new ElicitRequestParams
                    {
                        Message = message,
                        RequestedSchema = new ElicitRequestParams.RequestSchema
                        {
                            Properties = new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>
                            {
                                ["username"] = new ElicitRequestParams.StringSchema { Description = "User's response" },
                                ["email"] = new ElicitRequestParams.StringSchema { Description = "User's email address" },
                            },
                            Required = ["username", "email"],
                        },
                    },
                    ct);
                return $"User response: action={result.Action}, content={JsonSerializer.Serialize(result.Content)}";
            },
            new() { Name = "test_elicitation", Description = "Asks the user." }));
        tools.Add(ElicitWithSchema(
            "test_elicitation_sep1034_defaults",
            """
            {"type":"object","properties":{
              "name":{"type":"string","default":"John Doe"},
              "age":{"type":"integer","default":30},
              "score":{"type":"number","default":95.5},
              "status":{"type":"string","enum":["active","inactive","pending"],"default":"active"},
              "verified":{"type":"boolean","default":true}}}
            """));
        tools.Add(ElicitWithSchema(
            "test_elicitation_sep1330_enums",
            """
            {"type":"object","properties":{
              "untitledSingle":{"type":"string","enum":["option1","option2","option3"]},
              "titledSingle":{"type":"string","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},
              "legacyEnum":{"type":"string","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},
              "untitledMulti":{"type":"array","items":{"type":"string","enum":["option1","option2","option3"]}},
              "titledMulti":{"type":"array","items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}}}
            """));
        var schemaTool = McpServerTool.Create((string? name) => $"ok {name}", new() { Name = "json_schema_2020_12_tool", Description = "Tool with JSON Schema 2020-12 features" });
        schemaTool.ProtocolTool.InputSchema = JsonSerializer.Deserialize<JsonElement>(
            """
            {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
             "$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
             "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},
             "allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],
             "if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},
             "additionalProperties":false}
            """);
        tools.Add(schemaTool);
    }

    /// <summary>A tool that sends an elicitation request with a raw schema (the typed API cannot express every variant).</summary>
    private static McpServerTool ElicitWithSchema(string name, string schema) => McpServerTool.Create(
        async (McpServer server, CancellationToken ct) =>
        {
            var request = new JsonRpcRequest
            {
                Method = RequestMethods.ElicitationCreate,
                Params = new System.Text.Json.Nodes.JsonObject
                {
                    ["message"] = "Please review the defaults",
                    ["requestedSchema"] = System.Text.Json.Nodes.JsonNode.Parse(schema),
                },
            };
            var response = await server.SendRequestAsync(request, ct);
            var action = response.Result?["action"]?.ToString();
            return $"Elicitation completed: action={action}, content={response.Result?["content"]?.ToJsonString() ?? "{}"}";
        },
        new() { Name = name, Description = "Asks the user with a schema of every kind." });

    private static void AddResources(McpServerResourceCollection resources)
    {
        resources.Add(McpServerResource.Create(
            () => new TextResourceContents { Uri = "test://static-text", MimeType = "text/plain", Text = "This is the content of the static text resource." },
            new() { UriTemplate = "test://static-text", Name = "static-text", Description = "A static text resource", MimeType = "text/plain" }));
        resources.Add(McpServerResource.Create(
            () => BlobResourceContents.FromBytes(s_png, "test://static-binary", "image/png"),
            new() { UriTemplate = "test://static-binary", Name = "static-binary", Description = "A static binary resource", MimeType = "image/png" }));
        resources.Add(McpServerResource.Create(
            () => new TextResourceContents { Uri = "test://watched-resource", MimeType = "text/plain", Text = "Watched resource content." },
            new() { UriTemplate = "test://watched-resource", Name = "watched-resource", Description = "A resource to subscribe to", MimeType = "text/plain" }));
        resources.Add(McpServerResource.Create(
            (string id) => new TextResourceContents { Uri = $"test://template/{id}/data", MimeType = "application/json", Text = $"{{\"id\":\"{id}\",\"templateTest\":true,\"data\":\"Data for ID: {id}\"}}" },
            new() { UriTemplate = "test://template/{id}/data", Name = "template", Description = "A resource template", MimeType = "application/json" }));
    }

    private static void AddPrompts(McpServerPrimitiveCollection<McpServerPrompt> prompts)
    {
        prompts.Add(McpServerPrompt.Create(
            () => new GetPromptResult { Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = "This is a simple prompt for testing." } }] },
            new() { Name = "test_simple_prompt", Description = "A simple prompt" }));
        prompts.Add(McpServerPrompt.Create(
            (string arg1, string arg2) => new GetPromptResult { Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = $"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'" } }] },
            new() { Name = "test_prompt_with_arguments", Description = "A prompt with arguments" }));
        prompts.Add(McpServerPrompt.Create(
            (string resourceUri) => new GetPromptResult
            {
                Messages =
                [
                    new PromptMessage { Role = Role.User, Content = new EmbeddedResourceBlock { Resource = new TextResourceContents { Uri = resourceUri, MimeType = "text/plain", Text = "Embedded resource content for testing." } } },
                    new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = "Please process the embedded resource above." } },
                ],
            },
            new() { Name = "test_prompt_with_embedded_resource", Description = "A prompt with an embedded resource" }));
        prompts.Add(McpServerPrompt.Create(
            () => new GetPromptResult
            {
                Messages =
                [
                    new PromptMessage { Role = Role.User, Content = ImageContentBlock.FromBytes(s_png, "image/png") },
                    new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = "Please analyze the image above." } },
                ],
            },
            new() { Name = "test_prompt_with_image", Description = "A prompt with an image" }));
    }
}
