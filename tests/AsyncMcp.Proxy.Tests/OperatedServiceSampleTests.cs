using AsyncMcp.Aws.Sqs;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The ASP.NET Core service sample (samples/OperatedService) run as users run it, so that it never rots: on a free
/// 127.0.0.1 port against the emulator, its queue named by an environment variable over appsettings.json; /health answers
/// Healthy, a call over SQS is answered, and its metrics reach the console exporter. Stopped by its process id.
/// </summary>
public sealed class OperatedServiceSampleTests(BridgeEmulator emulator)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_service_sample_answers_health_and_calls_and_exports_its_metrics()
    {
        // Built beside this test project, in the same configuration and target framework.
        var output = AppContext.BaseDirectory.Replace(Path.Combine("tests", "AsyncMcp.Proxy.Tests"), Path.Combine("samples", "OperatedService"), StringComparison.Ordinal);
        var queueName = FauxqsEmulator.UniqueName("ops-sample");
        await using var service = ChildProcess.Start(
            "dotnet",
            [Path.Combine(output, "OperatedService.dll")],
            output,
            new Dictionary<string, string>
            {
                ["AWS_ENDPOINT_URL"] = emulator.Emulator.ServiceUrl,
                ["AWS_REGION"] = FauxqsEmulator.Region,
                ["AWS_ACCESS_KEY_ID"] = "test",
                ["AWS_SECRET_ACCESS_KEY"] = "test",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["AsyncMcp__Sqs__RequestQueue"] = queueName,
                ["AsyncMcp__Sqs__WaitTimeSeconds"] = "1",
                ["Metrics__ConsoleExportIntervalMilliseconds"] = "1000",
            });
        var ready = await service.WaitForLineAsync(line => line.StartsWith("SERVICE_READY ", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var parts = ready.Split(' ');
        var (url, queueUrl) = (parts[1], parts[2]);
        Assert.EndsWith("/" + queueName, queueUrl, StringComparison.Ordinal);
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        await EventuallyAsync(async () => await http.GetStringAsync("/health", Timeout) == "Healthy", what: "/health Healthy");

        var responseQueueUrl = await emulator.CreateQueueAsync("ops-sample-resp");
        await using (var client = await McpClient.CreateAsync(new SqsClientTransport(emulator.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = queueUrl, ResponseQueueUrl = responseQueueUrl }), cancellationToken: Timeout))
        {
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "operated" }, cancellationToken: Timeout);
            Assert.Equal("Echo: operated", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        await Eventually(() => service.StandardOutput.Contains("asyncmcp.server.requests.received", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the metric on the console exporter");
    }
}
