using System.Text;
using Amazon.SQS;
using AsyncMcp.Aws.Sqs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Aws.Tests;

/// <summary>
/// The AWS transports configured as a .NET service is: options bound from a configuration section (appsettings JSON,
/// in-memory), AWS clients from the AWS SDK's .NET setup, and bad values failing host start with the same messages as
/// options set in code.
/// </summary>
public sealed class ConfigurationBindingTests(EmulatorFixture fixture)
{
    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_sqs_server_bound_from_appsettings_json_with_aws_clients_from_the_AWS_section_serves_tools()
    {
        var requestQueueUrl = await fixture.CreateQueueAsync("bound");
        var json = $$"""
            {
              "AWS": { "Region": "{{FauxqsEmulator.Region}}", "ServiceURL": "{{fixture.Emulator.ServiceUrl}}" },
              "AsyncMcp": {
                "Sqs": {
                  "RequestQueueUrl": "{{requestQueueUrl}}",
                  "MaxConcurrentRequests": 7,
                  "WaitTime": "00:00:02",
                  "SupportedProtocolVersions": [ "2025-11-25" ],
                  "Workers": { "Enabled": false }
                }
              }
            }
            """;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));

        // Region and endpoint from the AWS section; the emulator's keys in code, as a host would take them from its environment.
        var aws = builder.Configuration.GetAWSOptions();
        aws.Credentials = FauxqsEmulator.Credentials;
        builder.Services.AddDefaultAWSOptions(aws);
        builder.Services.AddMcpServer().WithTools<SqsLifecycleTests.HostedTools>().WithSqsServerTransport(builder.Configuration.GetSection("AsyncMcp:Sqs"));
        using var host = builder.Build();
        await host.StartAsync(Timeout);

        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SqsServerTransportOptions>>().Value;
        Assert.Equal(requestQueueUrl, options.RequestQueueUrl);
        Assert.Equal(7, options.MaxConcurrentRequests);
        Assert.Equal(TimeSpan.FromSeconds(2), options.WaitTime);
        Assert.False(options.Workers.Enabled);
        Assert.Equal(["2025-11-25"], options.SupportedProtocolVersions);

        var responseQueueUrl = await fixture.CreateQueueAsync("bound-resp");
        await using (var client = await McpClient.CreateAsync(
            new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = responseQueueUrl }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" },
            cancellationToken: Timeout))
        {
            var result = await client.CallToolAsync("shout", new Dictionary<string, object?> { ["text"] = "bound" }, cancellationToken: Timeout);
            Assert.Equal("BOUND", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        // The configured list replaced the default one: a revision it leaves out is refused, with the revisions it
        // names (supported, requested), so that a client pinned to it is told clearly and one left free falls back.
        var refused = await Assert.ThrowsAnyAsync<McpException>(async () =>
        {
            await using var pinned = await McpClient.CreateAsync(
                new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = await fixture.CreateQueueAsync("bound-resp-2026") }),
                new McpClientOptions { ProtocolVersion = "2026-07-28" },
                cancellationToken: Timeout);
        });
        Assert.Contains("'2026-07-28'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Server-supported versions: 2025-11-25", refused.Message, StringComparison.Ordinal);

        await using (var free = await McpClient.CreateAsync(
            new SqsClientTransport(fixture.Sqs, new SqsClientTransportOptions { ServerRequestQueueUrl = requestQueueUrl, ResponseQueueUrl = await fixture.CreateQueueAsync("bound-resp-free") }),
            cancellationToken: Timeout))
        {
            Assert.Equal("2025-11-25", free.NegotiatedProtocolVersion);
            var result = await free.CallToolAsync("shout", new Dictionary<string, object?> { ["text"] = "fell back" }, cancellationToken: Timeout);
            Assert.Equal("FELL BACK", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        await host.StopAsync(Timeout);
    }

    [Theory]
    [InlineData("ReceiveBatchSize", "11")]
    [InlineData("WaitTime", "00:00:30")]
    [InlineData("MaxConcurrentRequests", "0")]
    [InlineData("RequestQueueUrl", "not a url")]
    public async Task A_bad_value_in_configuration_fails_host_start_with_the_message_options_in_code_give(string key, string value)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AsyncMcp:Sqs:RequestQueueUrl"] = fixture.Emulator.ServiceUrl + "/000000000000/q",
            [$"AsyncMcp:Sqs:{key}"] = value,
        };
        var bound = await StartFailureAsync(b => b.WithSqsServerTransport(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("AsyncMcp:Sqs")));
        var inCode = await StartFailureAsync(b => b.WithSqsServerTransport(o =>
        {
            o.RequestQueueUrl = settings["AsyncMcp:Sqs:RequestQueueUrl"]!;
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build().Bind(o);
        }));

        Assert.IsType<ArgumentException>(bound, exactMatch: false);
        Assert.Equal(inCode.Message, bound.Message);
        Assert.Contains(key, bound.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_fails_host_start_naming_the_key()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AsyncMcp:Sqs:RequestQueueUrl"] = fixture.Emulator.ServiceUrl + "/000000000000/q",
            ["AsyncMcp:Sqs:VisibilityTimeout"] = "half a minute",
        };
        var ex = await StartFailureAsync(b => b.WithSqsServerTransport(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("AsyncMcp:Sqs")));

        Assert.Contains("AsyncMcp:Sqs:VisibilityTimeout", ex.Message, StringComparison.Ordinal);
    }

    private async Task<Exception> StartFailureAsync(Action<IMcpServerBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IAmazonSQS>(fixture.Sqs);
        configure(builder.Services.AddMcpServer().WithTools<SqsLifecycleTests.HostedTools>());
        using var host = builder.Build();
        return await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Timeout));
    }
}
