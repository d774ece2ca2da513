using AsyncMcp.Testing;
using Microsoft.AspNetCore.Builder;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>A server in an ASP.NET Core app on real Kestrel (127.0.0.1, a free port), at an endpoint signed with a secret.</summary>
public abstract class WebAppHarness(WebApplication app, Uri url, string secret, TestServerState state, CollectingLoggerProvider logs)
    : ServerHarness(state, logs)
{
    public WebApplication App { get; } = app;

    /// <summary>The server's endpoint, such as http://127.0.0.1:41234/mcp.</summary>
    public Uri Url { get; } = url;

    /// <summary>The secret requests and deliveries are signed with.</summary>
    public string Secret { get; } = secret;
}
