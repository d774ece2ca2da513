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
}
