using System.Text.Json;
using System.Text.Json.Nodes;
using AsyncMcp.Tasks;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests.Tasks;

/// <summary>The extension's types against the examples of its specification (draft), written out by hand.</summary>
public sealed class TaskWireTypesTests
{
    private const string TaskId = "786512e2-9e0d-44bd-8f29-789f320fe840";

    [Fact]
    public void A_create_task_result_round_trips_flat_with_result_type_task()
    {
        const string example = """
            {
              "resultType": "task",
              "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
              "status": "working",
              "statusMessage": "The operation is now in progress.",
              "createdAt": "2025-11-25T10:30:00Z",
              "lastUpdatedAt": "2025-11-25T10:40:00Z",
              "ttlMs": 60000,
              "pollIntervalMs": 5000
            }
            """;

        var task = RoundTrip(example, McpTasksJsonContext.Default.CreateTaskResult);

        Assert.Equal(TaskId, task.TaskId);
        Assert.Equal(McpTaskStatus.Working, task.Status);
        Assert.Equal("The operation is now in progress.", task.StatusMessage);
        Assert.Equal(new DateTimeOffset(2025, 11, 25, 10, 30, 0, TimeSpan.Zero), task.CreatedAt);
        Assert.Equal(TimeSpan.FromMinutes(1), task.TimeToLive);
        Assert.Equal(TimeSpan.FromSeconds(5), task.PollInterval);
        Assert.Equal("task", new CreateTaskResult { TaskId = "x", Status = McpTaskStatus.Working, CreatedAt = default, LastUpdatedAt = default }.ResultType);
    }

    [Fact]
    public void A_working_task_round_trips()
    {
        var task = RoundTrip("""
            {
              "resultType": "complete",
              "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
              "status": "working",
              "createdAt": "2025-11-25T10:30:00Z",
              "lastUpdatedAt": "2025-11-25T10:50:00Z",
              "ttlMs": 3600000,
              "pollIntervalMs": 5000
            }
            """, McpTasksJsonContext.Default.DetailedTask);

        Assert.Equal(McpTaskStatus.Working, task.Status);
        Assert.Null(task.InputRequests);
        Assert.Null(task.Result);
        Assert.Null(task.Error);
    }

    [Fact]
    public void An_input_required_task_round_trips_with_its_input_requests()
    {
        var task = RoundTrip("""
            {
              "resultType": "complete",
              "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
              "status": "input_required",
              "createdAt": "2025-11-25T10:30:00Z",
              "lastUpdatedAt": "2025-11-25T10:50:00Z",
              "ttlMs": 3600000,
              "pollIntervalMs": 5000,
              "inputRequests": {
                "name": {
                  "method": "elicitation/create",
                  "params": {
                    "mode": "form",
                    "message": "Please enter your name.",
                    "requestedSchema": {
                      "type": "object",
                      "properties": { "name": { "type": "string" } },
                      "required": ["name"]
                    }
                  }
                }
              }
            }
            """, McpTasksJsonContext.Default.DetailedTask);

        Assert.Equal(McpTaskStatus.InputRequired, task.Status);
        var request = Assert.Single(task.InputRequests!);
        Assert.Equal("name", request.Key);
        Assert.Equal("elicitation/create", request.Value.Method);
        Assert.Equal("Please enter your name.", request.Value.ElicitationParams!.Message);
    }

    [Fact]
    public void A_completed_task_round_trips_with_its_inlined_result()
    {
        var task = RoundTrip("""
            {
              "resultType": "complete",
              "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
              "status": "completed",
              "createdAt": "2025-11-25T10:30:00Z",
              "lastUpdatedAt": "2025-11-25T10:50:00Z",
              "ttlMs": 3600000,
              "pollIntervalMs": 5000,
              "result": {
                "content": [ { "type": "text", "text": "Hello, Luca!" } ],
                "isError": false
              }
            }
            """, McpTasksJsonContext.Default.DetailedTask);

        var result = TaskResponseReader.ReadCompletedResult(task);
        Assert.Equal("Hello, Luca!", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.False(result.IsError);
    }

    [Fact]
    public void A_failed_task_round_trips_with_its_json_rpc_error()
    {
        // The specification's example says "resultType": "task" here, against its own rule for tasks/get; this is the rule.
        var task = RoundTrip("""
            {
              "resultType": "complete",
              "taskId": "786512e2-9e0d-44bd-8f29-789f820fe840",
              "status": "failed",
              "createdAt": "2025-11-25T10:30:00Z",
              "lastUpdatedAt": "2025-11-25T10:40:00Z",
              "ttlMs": 3600000,
              "statusMessage": "Tool execution failed: API rate limit exceeded",
              "error": { "code": -32603, "message": "API rate limit exceeded" }
            }
            """, McpTasksJsonContext.Default.DetailedTask);

        Assert.Equal(McpTaskStatus.Failed, task.Status);
        Assert.Equal(-32603, task.Error!.Code);
        Assert.Equal("API rate limit exceeded", task.Error.Message);
    }

    [Fact]
    public void An_unlimited_ttl_is_written_as_null_and_a_missing_one_is_refused()
    {
        var task = new DetailedTask
        {
            TaskId = "t",
            Status = McpTaskStatus.Cancelled,
            CreatedAt = new DateTimeOffset(2026, 7, 28, 12, 0, 0, 123, TimeSpan.FromHours(2)),
            LastUpdatedAt = new DateTimeOffset(2026, 7, 28, 12, 0, 1, TimeSpan.Zero),
        };

        var json = JsonSerializer.SerializeToNode(task, McpTasksJsonContext.Default.DetailedTask)!.AsObject();

        Assert.True(json.ContainsKey("ttlMs"));
        Assert.Null(json["ttlMs"]);
        Assert.False(json.ContainsKey("pollIntervalMs"));
        Assert.Equal("2026-07-28T10:00:00.123Z", json["createdAt"]!.GetValue<string>());
        Assert.Equal("2026-07-28T12:00:01Z", json["lastUpdatedAt"]!.GetValue<string>());
        Assert.Equal("complete", json["resultType"]!.GetValue<string>());

        json.Remove("ttlMs");
        var error = Assert.Throws<JsonException>(() => json.Deserialize(McpTasksJsonContext.Default.DetailedTask));
        Assert.Contains("ttlMs", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"status\": \"running\"")]
    [InlineData("\"status\": 1")]
    [InlineData("\"status\": \"working\", \"createdAt\": \"yesterday\"")]
    public void Statuses_and_timestamps_the_extension_does_not_define_are_refused(string members)
    {
        var json = "{ \"taskId\": \"t\", \"createdAt\": \"2025-11-25T10:30:00Z\", \"lastUpdatedAt\": \"2025-11-25T10:30:00Z\", \"ttlMs\": null, " + members + " }";

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, McpTasksJsonContext.Default.DetailedTask));
    }

    [Fact]
    public void Task_requests_and_acknowledgements_round_trip()
    {
        var get = RoundTrip("""{ "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840" }""", McpTasksJsonContext.Default.GetTaskRequestParams);
        Assert.Equal(TaskId, get.TaskId);
        Assert.Equal(TaskId, RoundTrip("""{ "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840" }""", McpTasksJsonContext.Default.CancelTaskRequestParams).TaskId);

        var update = RoundTrip("""
            {
              "taskId": "786512e2-9e0d-44bd-8f29-789f320fe840",
              "inputResponses": { "name": { "action": "accept", "content": { "input": "Luca" } } }
            }
            """, McpTasksJsonContext.Default.UpdateTaskRequestParams);
        var answer = update.InputResponses!["name"].Deserialize(InputResponse.ElicitResultJsonTypeInfo)!;
        Assert.Equal("accept", answer.Action);

        var ack = RoundTrip("""{ "resultType": "complete" }""", McpTasksJsonContext.Default.TaskAcknowledgement);
        Assert.Equal("complete", ack.ResultType);
        Assert.Equal("""{"resultType":"complete"}""", JsonSerializer.Serialize(new TaskAcknowledgement(), McpTasksJsonContext.Default.TaskAcknowledgement));
    }

    [Fact]
    public void The_missing_capability_error_carries_the_required_capabilities_of_the_example()
    {
        var exception = McpTasks.CreateMissingCapabilityException();

        Assert.Equal(McpErrorCode.MissingRequiredClientCapability, exception.ErrorCode);
        Assert.Equal(-32021, (int)McpTasks.MissingCapabilityErrorCode);
        var data = JsonSerializer.SerializeToNode(exception.RequiredCapabilities, McpJsonUtilities.DefaultOptions);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "extensions": { "io.modelcontextprotocol/tasks": {} } }"""), data), data!.ToJsonString());
    }

    [Fact]
    public void Declaring_the_extension_keeps_what_else_the_meta_holds()
    {
        var parameters = JsonNode.Parse("""
            { "name": "hello_world", "arguments": {},
              "_meta": { "progressToken": "p1", "io.modelcontextprotocol/clientCapabilities": { "elicitation": { "form": {} }, "extensions": { "x.example/other": {} } } } }
            """)!.AsObject();

        McpTasks.DeclareOn(parameters);

        var expected = JsonNode.Parse("""
            { "name": "hello_world", "arguments": {},
              "_meta": { "progressToken": "p1", "io.modelcontextprotocol/clientCapabilities": { "elicitation": { "form": {} },
                "extensions": { "x.example/other": {}, "io.modelcontextprotocol/tasks": {} } } } }
            """);
        Assert.True(JsonNode.DeepEquals(expected, parameters), parameters.ToJsonString());
        Assert.True(McpTasks.IsDeclaredBy(JsonSerializer.Deserialize<ClientCapabilities>(parameters["_meta"]!["io.modelcontextprotocol/clientCapabilities"]!.ToJsonString(), McpJsonUtilities.DefaultOptions)));
        Assert.False(McpTasks.IsDeclaredBy(new ClientCapabilities()));
    }

    [Fact]
    public void An_inlined_tool_result_carries_result_type_complete()
    {
        var inlined = McpTasks.ToInlinedResult(new CallToolResult { Content = [new TextContentBlock { Text = "done" }], IsError = true });

        Assert.Equal("complete", inlined["resultType"]!.GetValue<string>());
        Assert.True(inlined["isError"]!.GetValue<bool>());
        Assert.Equal("done", inlined["content"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("2026-07-28", true)]
    [InlineData("2027-01-01", true)]
    [InlineData("2025-11-25", false)]
    [InlineData(null, false)]
    public void The_extension_is_defined_from_2026_07_28(string? version, bool defined) =>
        Assert.Equal(defined, McpTasks.IsDefinedFor(version));

    private static T RoundTrip<T>(string example, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var value = JsonSerializer.Deserialize(example, typeInfo)!;
        var written = JsonSerializer.SerializeToNode(value, typeInfo);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(example), written), $"expected {example}\nwritten {written!.ToJsonString()}");
        return value;
    }
}
