using System.Text.RegularExpressions;

namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>
/// docs/architecture.md names files a newcomer opens: each of them is there, and the traced paths stay short (a
/// sighting from the gateway to PostgreSQL in at most 8 files, an edition in at most 10).
/// </summary>
public sealed partial class ArchitectureDocTests
{
    /// <summary>A repository path under src/ or tests/ that ends in an extension (or a project folder's dotted name).</summary>
    [GeneratedRegex(@"(?<![\w./-])(?:src|tests)/[\w./-]*\.\w+")]
    private static partial Regex RepositoryPath();

    /// <summary>A numbered step of a traced path: its number, then the file it happens in.</summary>
    [GeneratedRegex(@"^\s*\d+\s+(src/\S+)", RegexOptions.Multiline)]
    private static partial Regex Step();

    [Theory]
    [InlineData("## A sighting's path", 8)]
    [InlineData("## An edition's path", 10)]
    public void A_traced_path_opens_few_files(string heading, int most)
    {
        var text = File.ReadAllText(Repository.PathOf("docs/architecture.md"));
        var start = text.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/architecture.md has no section {heading}");
        var end = text.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var section = text[start..(end < 0 ? text.Length : end)];
        var blockStart = section.IndexOf("```", StringComparison.Ordinal);
        var block = section[blockStart..section.IndexOf("```", blockStart + 3, StringComparison.Ordinal)];
        var files = Step().Matches(block).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.InRange(files.Count, 3, most);
    }

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
