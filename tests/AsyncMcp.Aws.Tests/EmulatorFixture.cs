using Amazon.SQS;
using AsyncMcp.Testing;

[assembly: AssemblyFixture(typeof(AsyncMcp.Aws.Tests.EmulatorFixture))]

namespace AsyncMcp.Aws.Tests;

/// <summary>One fauxqs emulator for the test assembly; every test uses queues of its own.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    private FauxqsEmulator? _emulator;

    public FauxqsEmulator Emulator => _emulator ?? throw new InvalidOperationException("The emulator has not started.");

    public IAmazonSQS Sqs { get; private set; } = null!;

    public Amazon.S3.IAmazonS3 S3 { get; private set; } = null!;

    public AsyncMcp.Aws.Sns.SnsQueryClient Sns { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _emulator = await FauxqsEmulator.StartAsync();
        Sqs = _emulator.CreateSqsClient();
        S3 = _emulator.CreateS3Client();
        Sns = new AsyncMcp.Aws.Sns.SnsQueryClient(new AsyncMcp.Aws.Sns.SnsQueryClientOptions
        {
            ServiceUrl = _emulator.ServiceUrl,
            Region = FauxqsEmulator.Region,
            Credentials = FauxqsEmulator.Credentials,
        });
    }

    public async ValueTask DisposeAsync()
    {
        Sqs?.Dispose();
        S3?.Dispose();
        Sns?.Dispose();
        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }
    }

    /// <summary>How many messages a queue holds ready to receive (not in flight).</summary>
    public async Task<int> CountVisibleAsync(string queueUrl)
    {
        var attributes = await GetAttributesOrNoneAsync(queueUrl, ["ApproximateNumberOfMessages"]);
        return attributes?.ApproximateNumberOfMessages ?? 0;
    }

    /// <summary>How many messages a queue holds, ready to receive or in flight.</summary>
    public async Task<int> CountUnsettledAsync(string queueUrl)
    {
        var attributes = await GetAttributesOrNoneAsync(queueUrl, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]);
        return attributes is null ? 0 : attributes.ApproximateNumberOfMessages + attributes.ApproximateNumberOfMessagesNotVisible;
    }

    /// <summary>A queue's attributes, or <see langword="null"/> once it is gone (a worker's queue after its worker stopped): it holds nothing.</summary>
    private async Task<Amazon.SQS.Model.GetQueueAttributesResponse?> GetAttributesOrNoneAsync(string queueUrl, List<string> names)
    {
        try
        {
            return await Sqs.GetQueueAttributesAsync(queueUrl, names, TestContext.Current.CancellationToken);
        }
        catch (Amazon.SQS.Model.QueueDoesNotExistException)
        {
            return null;
        }
    }

    public Task<string> CreateQueueAsync(string prefix, Dictionary<string, string>? attributes = null) =>
        Emulator.CreateQueueAsync(Sqs, FauxqsEmulator.UniqueName(prefix), attributes);
}
