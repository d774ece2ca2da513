using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.AspNetCore.Hybrid.Server;

/// <summary>
/// The response body of a <c>tools/call</c> POST from a client that names a webhook but does not read
/// acknowledgements (asyncmcp's Python hybrid client): passes the SDK's SSE stream through event by event, except the
/// acknowledgement of this request, which such a client would take as the tool's result. The stream then ends with no
/// response for the call, as asyncmcp's wire format has it: the final response goes to the webhook instead.
/// </summary>
internal sealed class AcknowledgementFilter : Stream
{
    private static readonly byte[] s_eventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] s_acceptedKey = Encoding.UTF8.GetBytes($"\"{HybridMeta.Accepted}\"");
    private readonly Stream _inner;
    private readonly HttpResponse _response;
    private readonly RequestId _requestId;
    private readonly ArrayBufferWriter<byte> _pending = new();
    private bool? _isEventStream;

    public AcknowledgementFilter(Stream inner, HttpResponse response, RequestId requestId)
    {
        _inner = inner;
        _response = response;
        _requestId = requestId;
    }

    /// <summary>Whether the acknowledgement was held back.</summary>
    public bool Dropped { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Write(byte[] buffer, int offset, int count)
    {
        foreach (var item in Pass(buffer.AsSpan(offset, count)))
        {
            _inner.Write(item.Span);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        foreach (var item in Pass(buffer.Span))
        {
            await _inner.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds what was written and returns what may go on: whole events other than the acknowledgement.</summary>
    private List<ReadOnlyMemory<byte>> Pass(ReadOnlySpan<byte> buffer)
    {
        // Decided on the first write, when the SDK has set the content type: an error body passes untouched.
        _isEventStream ??= _response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ?? false;
        if (_isEventStream == false)
        {
            return [buffer.ToArray()];
        }

        _pending.Write(buffer);
        var passed = new List<ReadOnlyMemory<byte>>();
        var consumed = 0;
        while (true)
        {
            var rest = _pending.WrittenMemory[consumed..];
            var end = rest.Span.IndexOf(s_eventEnd);
            if (end < 0)
            {
                break;
            }

            var item = rest[..(end + s_eventEnd.Length)];
            consumed += item.Length;
            if (IsAcknowledgement(item.Span))
            {
                Dropped = true;
            }
            else
            {
                passed.Add(item.ToArray());
            }
        }

        if (consumed > 0)
        {
            var left = _pending.WrittenMemory[consumed..].ToArray();
            _pending.Clear();
            _pending.Write(left);
        }

        return passed;
    }

    /// <summary>Writes whatever is left that did not end like an event (nothing, with the SDK's writer).</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_pending.WrittenCount > 0)
        {
            await _inner.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
            _pending.Clear();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private bool IsAcknowledgement(ReadOnlySpan<byte> item)
    {
        // Cheap test first: only an event that mentions the key can be the acknowledgement.
        if (item.IndexOf(s_acceptedKey) < 0)
        {
            return false;
        }

        var data = new StringBuilder();
        foreach (var line in Encoding.UTF8.GetString(item).Split('\n'))
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line.AsSpan(line.Length > 5 && line[5] == ' ' ? 6 : 5));
            }
        }

        try
        {
            return JsonNode.Parse(data.ToString()) is JsonObject message &&
                message["result"] is JsonObject result &&
                result["_meta"] is JsonObject meta &&
                meta[HybridMeta.Accepted] is JsonValue accepted && accepted.GetValueKind() == JsonValueKind.True &&
                message["id"] is JsonValue id &&
                (id.GetValueKind() == JsonValueKind.String ? id.GetValue<string>() : id.ToJsonString()) == _requestId.ToString();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
