using AsyncMcp.Wire;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Core.Tests;

public sealed class JsonRpcCodecTests
{
    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("{\"jsonrpc\":", "not valid JSON")]
    [InlineData("hello", "not valid JSON")]
    public void Bodies_that_are_not_json_are_parse_errors(string body, string expected)
    {
        var result = JsonRpcCodec.Decode(body);

        Assert.False(result.IsSuccess);
        Assert.Equal(McpErrorCode.ParseError, result.ErrorCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Null(result.Id.Id);
    }

    [Theory]
    [InlineData("[]", "batches are not supported")]
    [InlineData("\"text\"", "must be a JSON-RPC 2.0 object")]
    [InlineData("{\"id\":1,\"method\":\"x\"}", "\"jsonrpc\" must be \"2.0\"")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}", "neither a request")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}", "not a valid JSON-RPC 2.0 message")]
    public void Json_that_is_not_a_json_rpc_message_is_an_invalid_request(string body, string expected)
    {
        var result = JsonRpcCodec.Decode(body);

        Assert.False(result.IsSuccess);
        Assert.Equal(McpErrorCode.InvalidRequest, result.ErrorCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_id_of_an_invalid_message_is_kept_for_the_error()
    {
        Assert.Equal(new RequestId("abc"), JsonRpcCodec.Decode("{\"jsonrpc\":\"1.0\",\"id\":\"abc\"}").Id);
        Assert.Equal(new RequestId(9), JsonRpcCodec.Decode("{\"jsonrpc\":\"1.0\",\"id\":9}").Id);
    }

    [Fact]
    public void Every_kind_of_message_round_trips()
    {
        Assert.IsType<JsonRpcRequest>(JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}").Message);
        Assert.IsType<JsonRpcNotification>(JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").Message);
        Assert.IsType<JsonRpcResponse>(JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}").Message);
        Assert.IsType<JsonRpcError>(JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\"}}").Message);
    }

    [Fact]
    public void Errors_for_unknown_ids_serialize_a_null_id_and_a_reason()
    {
        var json = JsonRpcCodec.Serialize(JsonRpcErrors.Create(default, McpErrorCode.ParseError, "bad", ErrorReasons.ParseError));

        Assert.Contains("\"id\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"code\":-32700", json, StringComparison.Ordinal);
        Assert.Contains("\"reason\":\"parse_error\"", json, StringComparison.Ordinal);
        var decoded = Assert.IsType<JsonRpcError>(JsonRpcCodec.Decode(json).Message);
        Assert.Equal(ErrorReasons.ParseError, JsonRpcErrors.ReadReason(decoded));
    }

    private const string Reply = "\"params\":{\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"}}";

    public static TheoryData<string, string, long?> BodiesDotNetRefusesLate => new()
    {
        // A string that is not text, anywhere: in the arguments, in the id, in a member name.
        { "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"\\ud800\"},\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"}}}", "unpaired UTF-16 surrogate", 3 },
        { "{\"jsonrpc\":\"2.0\",\"id\":\"a\\udc00\",\"method\":\"tools/list\"," + Reply + "}", "unpaired UTF-16 surrogate", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"arguments\":{\"k\\ud800\":1},\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"}}}", "unpaired UTF-16 surrogate", 4 },

        // A member named twice: the id (which id?), the method, or deep in the arguments.
        { "{\"jsonrpc\":\"2.0\",\"id\":5,\"id\":6,\"method\":\"tools/list\"," + Reply + "}", "\"id\" appears more than once", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"method\":\"ping\"," + Reply + "}", "\"method\" appears more than once", 7 },
        { "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"arguments\":{\"a\":1,\"a\":2},\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"}}}", "Duplicate property 'a'", 8 },

        // An id that is not a string or an integer.
        { "{\"jsonrpc\":\"2.0\",\"id\":{\"n\":1},\"method\":\"tools/list\"," + Reply + "}", "(was an object)", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"tools/list\"," + Reply + "}", "(was an array)", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"tools/list\"," + Reply + "}", "not a whole number", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"tools/list\"," + Reply + "}", "(was a boolean)", null },
        { "{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"tools/list\"," + Reply + "}", "not a whole number", null },

        // A method that is not a string; no jsonrpc; nesting deeper than 64 levels.
        { "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":42," + Reply + "}", "\"method\" must be a string", 9 },
        { "{\"id\":10,\"method\":\"tools/list\"," + Reply + "}", "\"jsonrpc\" must be \"2.0\"", 10 },
        { "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/reply-q\"},\"deep\":" + new string('[', 63) + new string(']', 63) + "}}", "nested more than 64 levels", 11 },
    };

    [Theory]
    [MemberData(nameof(BodiesDotNetRefusesLate))]
    public void Json_that_dotnet_refuses_late_is_refused_up_front_with_its_id_and_reply_address(string body, string expected, long? id)
    {
        var result = JsonRpcCodec.Decode(body);

        Assert.False(result.IsSuccess);
        Assert.Equal(McpErrorCode.InvalidRequest, result.ErrorCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Equal(id is { } number ? new RequestId(number) : default, result.Id);
        Assert.Equal("https://sqs.test/000/reply-q", ReplyAddressConvention.SqsResponseQueue.Read(result));
    }

    [Fact]
    public void Nesting_up_to_64_levels_is_accepted()
    {
        var body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"deep\":" + new string('[', 62) + new string(']', 62) + "}}";

        var request = Assert.IsType<JsonRpcRequest>(JsonRpcCodec.Decode(body).Message);

        Assert.Contains("\"deep\"", JsonRpcCodec.Serialize(request), StringComparison.Ordinal);
    }

    [Fact]
    public void A_reply_address_named_twice_or_unreadable_is_not_used()
    {
        var twice = JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/a\",\"responseQueueUrl\":\"https://sqs.test/000/b\"}}}");
        var unreadable = JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"responseQueueUrl\":\"https://sqs.test/000/\\ud800\"}}}");
        var paramsTwice = JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"," + Reply + "," + Reply + "}");

        Assert.Null(ReplyAddressConvention.SqsResponseQueue.Read(twice));
        Assert.Null(ReplyAddressConvention.SqsResponseQueue.Read(unreadable));
        Assert.Null(ReplyAddressConvention.SqsResponseQueue.Read(paramsTwice));
        Assert.Equal(new RequestId(1), twice.Id);
    }

    [Fact]
    public void The_legacy_reply_address_of_an_invalid_message_is_read_too()
    {
        var result = JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"initialize\",\"params\":{\"response_queue_url\":\"https://sqs.test/000/legacy\"}}");

        Assert.Equal("https://sqs.test/000/legacy", ReplyAddressConvention.SqsResponseQueue.Read(result));
    }

    [Fact]
    public void Text_that_is_not_unicode_is_a_parse_error()
    {
        // A lone surrogate character (not an escape) in the text, and bytes that are not UTF-8.
        var lone = JsonRpcCodec.Decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"a\":\"\ud800\"}}");
        var notUtf8 = JsonRpcCodec.Decode([.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\""u8, 0xC3, 0x28, .. "\"}"u8]);

        Assert.Equal(McpErrorCode.ParseError, lone.ErrorCode);
        Assert.Equal(McpErrorCode.ParseError, notUtf8.ErrorCode);
        Assert.Contains("not UTF-8", notUtf8.Error, StringComparison.Ordinal);
        Assert.Null(notUtf8.Id.Id);
    }

    [Fact]
    public void Utf8_bodies_decode_like_text_bodies()
    {
        var body = "{\"jsonrpc\":\"2.0\",\"id\":\"x\\n\\\"y\",\"method\":\"tools/call\",\"params\":{\"arguments\":{\"m\":\"\u00e9\\ud83d\\ude00\"}}}";

        var fromText = Assert.IsType<JsonRpcRequest>(JsonRpcCodec.Decode(body).Message);
        var fromBytes = Assert.IsType<JsonRpcRequest>(JsonRpcCodec.Decode(System.Text.Encoding.UTF8.GetBytes(body)).Message);

        Assert.Equal(new RequestId("x\n\"y"), fromText.Id);
        Assert.Equal(JsonRpcCodec.Serialize(fromText), JsonRpcCodec.Serialize(fromBytes));
        Assert.Equal("\u00e9\U0001F600", (string?)fromBytes.Params!["arguments"]!["m"]);
        Assert.Equal(McpErrorCode.ParseError, JsonRpcCodec.Decode(" \r\n"u8).ErrorCode);
    }
}
