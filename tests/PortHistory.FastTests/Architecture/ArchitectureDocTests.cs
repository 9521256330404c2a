using System.Text.RegularExpressions;

namespace PortHistory.FastTests.Architecture;

/// <summary>docs/architecture.md names files a newcomer opens: each of them is there.</summary>
public sealed partial class ArchitectureDocTests
{
    /// <summary>A repository path under src/ or tests/ that ends in an extension (or a project folder's dotted name).</summary>
    [GeneratedRegex(@"(?<![\w./-])(?:src|tests)/[\w./-]*\.\w+")]
    private static partial Regex RepositoryPath();

    [Fact]
    public void Every_path_the_architecture_document_names_exists()
    {
        var text = File.ReadAllText(Repository.PathOf("docs/architecture.md"));
        var paths = RepositoryPath().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.True(paths.Count >= 20, $"docs/architecture.md names only {paths.Count} paths");

        var missing = paths.Where(p => !File.Exists(Repository.PathOf(p)) && !Directory.Exists(Repository.PathOf(p))).ToList();
        Assert.True(missing.Count == 0, $"docs/architecture.md names paths that do not exist:\n{string.Join('\n', missing)}");
    }
}
