namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>
/// Files stay small enough to read in one sitting: a C# file over <see cref="MaxLines"/> lines says why on its first
/// line, as a // comment.
/// </summary>
public sealed class FileLengthTests
{
    private const int MaxLines = 250;

    [Fact]
    public void No_source_file_is_over_250_lines_without_a_reason_on_its_first_line()
    {
        var offenders = new[] { "src", "tests" }
            .SelectMany(folder => Repository.SourceFiles(folder, ".cs"))
            .Select(path => (Path: path, Lines: File.ReadAllLines(Repository.PathOf(path))))
            .Where(file => file.Lines.Length > MaxLines && !GivesReason(file.Lines[0]))
            .Select(file => $"{file.Lines.Length,5} {file.Path}")
            .ToList();

        Assert.True(offenders.Count == 0,
            $"{offenders.Count} C# file(s) over {MaxLines} lines without a reason (a // comment on the first line): split them, or say why not.\n"
            + string.Join('\n', offenders));
    }

    /// <summary>A plain comment with some words in it; a documentation comment (///) is not a reason.</summary>
    private static bool GivesReason(string firstLine)
    {
        var line = firstLine.Trim();
        return line.StartsWith("//", StringComparison.Ordinal) && !line.StartsWith("///", StringComparison.Ordinal) && line[2..].Trim().Length >= 10;
    }
}
