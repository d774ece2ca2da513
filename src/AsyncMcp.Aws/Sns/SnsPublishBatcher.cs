using System.Runtime.CompilerServices;
using System.Text;
using AsyncMcp.Messaging.Batching;

namespace AsyncMcp.Aws.Sns;

/// <summary>
/// Publishes the messages that wait at the same moment for one topic as one <c>PublishBatch</c> request (see
/// <see cref="BatchLane{TEntry}"/>): several replies waiting for one client topic go out together, a message that is
/// alone goes out as a plain <c>Publish</c>. Each message completes, or fails with its own
/// <see cref="SnsRequestException"/>, as its single publish would have.
/// </summary>
internal sealed class SnsPublishBatcher
{
    /// <summary>The most bytes of messages and attributes in one <c>PublishBatch</c>.</summary>
    public const int MaxBatchBytes = 262_144;

    private static readonly ConditionalWeakTable<ISnsClient, SnsPublishBatcher> s_batchers = new();

    private readonly ISnsClient _sns;
    private readonly BatchLanes<SnsPublishRequest> _lanes;

    private SnsPublishBatcher(ISnsClient sns)
    {
        _sns = sns;
        _lanes = new(PublishBatchAsync, Size, BatchLimits.Aws(MaxBatchBytes));
    }

    /// <summary>The batcher of an SNS client.</summary>
    public static SnsPublishBatcher For(ISnsClient sns)
    {
        ArgumentNullException.ThrowIfNull(sns);
        return s_batchers.GetValue(sns, static client => new SnsPublishBatcher(client));
    }

    /// <summary>Publishes a message, alone or with others for the same topic.</summary>
    public Task PublishAsync(SnsPublishRequest request, CancellationToken cancellationToken = default) =>
        _lanes.SubmitAsync(request.TopicArn, request, cancellationToken);

    private async Task PublishBatchAsync(string topicArn, IReadOnlyList<BatchLane<SnsPublishRequest>.Pending> batch)
    {
        if (batch.Count == 1)
        {
            await _sns.PublishAsync(batch[0].Entry, CancellationToken.None).ConfigureAwait(false);
            batch[0].Succeed();
            return;
        }

        var outcomes = await _sns.PublishBatchAsync(topicArn, [.. batch.Select(p => p.Entry)], CancellationToken.None).ConfigureAwait(false);
        for (var i = 0; i < batch.Count; i++)
        {
            if (i < outcomes.Count && outcomes[i] is null)
            {
                batch[i].Succeed();
            }
            else
            {
                batch[i].Fail(i < outcomes.Count ? outcomes[i]! : new SnsRequestException("Publish", null, "the PublishBatch answer did not name this entry", null, isTransient: true));
            }
        }
    }

    private static int Size(SnsPublishRequest request)
    {
        var size = Encoding.UTF8.GetByteCount(request.Message);
        foreach (var (name, value) in request.MessageAttributes)
        {
            size += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value.DataType) + Encoding.UTF8.GetByteCount(value.Value);
        }

        return size;
    }
}
