using AsyncMcp.Messaging;

namespace AsyncMcp.Core.Tests;

/// <summary>
/// A message's deduplication id, made on first use: the same for every read and every concurrent first read (a retry
/// must carry the id of the first attempt), different between messages, and one given explicitly is kept.
/// </summary>
public sealed class OutboundMessageTests
{
    [Fact]
    public void The_deduplication_id_is_made_once_and_kept_by_every_reader()
    {
        for (var round = 0; round < 200; round++)
        {
            var message = new OutboundMessage("{}", new Dictionary<string, string>());
            using var start = new Barrier(4);
            var ids = new string[4];
            var readers = Enumerable.Range(0, 4).Select(i => new Thread(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                ids[i] = message.DeduplicationId;
            })).ToList();
            readers.ForEach(reader => reader.Start());
            readers.ForEach(reader => Assert.True(reader.Join(TimeSpan.FromSeconds(10))));

            Assert.Single(ids.Distinct());
            Assert.Equal(ids[0], message.DeduplicationId);
            Assert.Equal(32, ids[0].Length);
        }

        Assert.NotEqual(new OutboundMessage("{}", new Dictionary<string, string>()).DeduplicationId, new OutboundMessage("{}", new Dictionary<string, string>()).DeduplicationId);
        Assert.Equal("given", new OutboundMessage("{}", new Dictionary<string, string>()) { DeduplicationId = "given" }.DeduplicationId);
    }
}
