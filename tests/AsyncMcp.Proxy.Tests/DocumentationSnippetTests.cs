using System.Text.RegularExpressions;

namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// Every C# snippet in README.md and docs/ compiles: each is a region of a program under samples/ (which the solution
/// builds), marked <c>// snippet: name</c> … <c>// end snippet</c>, copied into the page as it stands there.
/// </summary>
public sealed partial class DocumentationSnippetTests
{
    [Fact]
    public void Every_csharp_block_in_the_docs_is_a_region_of_a_compiled_sample()
    {
        var regions = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "samples"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => Regions(File.ReadAllText(f)))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(regions);

        var pages = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Append(Path.Combine(RepositoryPaths.Root, "README.md"));
        var missing = new List<string>();
        var blocks = 0;
        foreach (var page in pages)
        {
            foreach (Match block in CsharpBlock().Matches(File.ReadAllText(page).ReplaceLineEndings("\n")))
            {
                blocks++;
                var code = Normalize(block.Groups["code"].Value);
                if (!regions.Contains(code))
                {
                    missing.Add($"{Path.GetRelativePath(RepositoryPaths.Root, page)}:\n{code}");
                }
            }
        }

        Assert.True(blocks > 10, $"only {blocks} C# blocks found");
        Assert.True(missing.Count == 0, $"{missing.Count} C# blocks are no region of a sample:\n\n{string.Join("\n\n", missing)}");
    }

    private static IEnumerable<string> Regions(string source)
    {
        foreach (Match region in SnippetRegion().Matches(source.ReplaceLineEndings("\n")))
        {
            yield return Normalize(region.Groups["code"].Value);
        }
    }

    /// <summary>Without the indentation all lines share, and without blank lines at either end.</summary>
    private static string Normalize(string code)
    {
        var lines = code.Split('\n').Select(l => l.TrimEnd()).SkipWhile(l => l.Length == 0).Reverse().SkipWhile(l => l.Length == 0).Reverse().ToList();
        var indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length == 0 ? l : l[indent..]));
    }

    [GeneratedRegex(@"^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CsharpBlock();

    [GeneratedRegex(@"^[ \t]*// snippet: [\w-]+\n(?<code>.*?)^[ \t]*// end snippet", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex SnippetRegion();
}
