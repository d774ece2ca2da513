using System.Globalization;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace AsyncMcp.Testing;

/// <summary>Creates AWS clients for an emulator endpoint (fauxqs accepts any credentials).</summary>
public sealed class FauxqsClientFactory(string serviceUrl)
{
    public IAmazonSQS Create() => new AmazonSQSClient(FauxqsEmulator.Credentials, new AmazonSQSConfig
    {
        ServiceURL = serviceUrl,
        AuthenticationRegion = FauxqsEmulator.Region,
        MaxErrorRetry = 2,
    });

    public Amazon.S3.IAmazonS3 CreateS3() => new Amazon.S3.AmazonS3Client(FauxqsEmulator.Credentials, new Amazon.S3.AmazonS3Config
    {
        ServiceURL = serviceUrl,
        AuthenticationRegion = FauxqsEmulator.Region,
        ForcePathStyle = true,
    });
}

/// <summary>
/// The fauxqs SQS/SNS/S3 emulator, run from the project's own npm install on Node 22, bound to 127.0.0.1 on a
/// free port, and stopped by its process id.
/// </summary>
public sealed class FauxqsEmulator : IAsyncDisposable
{
    public const string Region = "us-east-1";

    private readonly ChildProcess _process;

    private FauxqsEmulator(ChildProcess process, int port, string? dataDirectory)
    {
        _process = process;
        Port = port;
        DataDirectory = dataDirectory;
    }

    public int Port { get; }

    public string? DataDirectory { get; }

    public int ProcessId => _process.ProcessId;

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    public static AWSCredentials Credentials { get; } = new BasicAWSCredentials("test", "test");

    /// <summary>Starts the emulator; <paramref name="port"/> 0 picks a free port.</summary>
    public static async Task<FauxqsEmulator> StartAsync(int port = 0, string? dataDirectory = null)
    {
        RepositoryPaths.EnsureInfrastructureInstalled();
        var arguments = new List<string> { "--no-warnings", "fauxqs-loopback.mjs", "--port", port.ToString(CultureInfo.InvariantCulture) };
        if (dataDirectory is not null)
        {
            arguments.Add("--data-dir");
            arguments.Add(dataDirectory);
        }

        var process = ChildProcess.Start(RepositoryPaths.Node, arguments, RepositoryPaths.Infra);
        var ready = await process.WaitForLineAsync(line => line.StartsWith("FAUXQS_READY ", StringComparison.Ordinal), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        var actualPort = int.Parse(ready["FAUXQS_READY ".Length..].Trim(), CultureInfo.InvariantCulture);
        return new FauxqsEmulator(process, actualPort, dataDirectory);
    }

    public IAmazonSQS CreateSqsClient() => new FauxqsClientFactory(ServiceUrl).Create();

    public Amazon.S3.IAmazonS3 CreateS3Client() => new FauxqsClientFactory(ServiceUrl).CreateS3();

    public async Task<string> CreateQueueAsync(IAmazonSQS sqs, string name, Dictionary<string, string>? attributes = null)
    {
        var response = await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = name, Attributes = attributes }).ConfigureAwait(false);
        return response.QueueUrl;
    }

    /// <summary>A queue name no other test uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(80, prefix.Length + 33)];

    public async ValueTask DisposeAsync() => await _process.DisposeAsync().ConfigureAwait(false);
}
