using AsyncMcp.AspNetCore.Hybrid.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts the hybrid transport's Streamable HTTP endpoint in an ASP.NET Core app.</summary>
public static class HybridEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Mounts the Streamable HTTP endpoint of the hybrid transport (POST, GET and DELETE at <paramref name="pattern"/>).
    /// Needs <c>WithHybridTransport</c>.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder (the web application).</param>
    /// <param name="pattern">The path; <c>/mcp</c> by default.</param>
    /// <returns>The endpoints, for further conventions (authorization, rate limiting).</returns>
    public static IEndpointConventionBuilder MapMcpHybrid(this IEndpointRouteBuilder endpoints, string pattern = "/mcp")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var filter = endpoints.ServiceProvider.GetService<HybridEndpointFilter>()
            ?? throw new InvalidOperationException("MapMcpHybrid needs services.AddMcpServer().WithHybridTransport(...) first.");
        filter.MappedPattern = pattern;
        var mapped = endpoints.MapMcp(pattern);
        mapped.Add(endpoint =>
        {
            if (endpoint.RequestDelegate is { } inner)
            {
                endpoint.RequestDelegate = filter.Wrap(inner);
            }
        });
        return mapped;
    }
}
