using System.Text.RegularExpressions;

namespace PortHistory.Registry.Formats;

/// <summary>
/// The lines of a text edition with its all-capitals section headings located ("WELL KNOWN PORT NUMBERS",
/// "UNIX PORTS", "REFERENCES", …). Lines a parser has marked as page furniture are skipped everywhere.
/// </summary>
internal sealed partial class SectionedText
{
    public SectionedText(string[] lines, bool[] skip)
    {
        Lines = lines;
        Skip = skip;
        var headings = new List<(int Index, string Title)>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!skip[i] && IsHeading(lines[i])) headings.Add((i, TextLines.CollapseWhitespace(lines[i])));
        }

        Headings = headings;
    }

    public string[] Lines { get; }
    public bool[] Skip { get; }
    public IReadOnlyList<(int Index, string Title)> Headings { get; }

    /// <summary>Sections whose heading is one of <paramref name="titles"/>, each up to the next heading.</summary>
    public IEnumerable<(string Title, int Start, int End)> SectionsTitled(IReadOnlyCollection<string> titles)
    {
        for (var h = 0; h < Headings.Count; h++)
        {
            var (index, title) = Headings[h];
            if (!titles.Contains(title)) continue;
            var end = h + 1 < Headings.Count ? Headings[h + 1].Index : Lines.Length;
            yield return (title, index + 1, end);
        }
    }

    /// <summary>
    /// Finds a table's column header ("Keyword  Decimal  Description", "Decimal  Keyword …", "Service Name
    /// Port/Protocol …") followed by its dashes line; returns the index of the first row, or -1.
    /// </summary>
    public int FindTableStart(int start, int end, out string header)
    {
        header = "";
        for (var i = start; i < end; i++)
        {
            if (Skip[i]) continue;
            var line = Lines[i];
            var isHeader = (line.Contains("Keyword") && line.Contains("Decimal")) ||
                           (line.Contains("Service Name") && line.Contains("Port/Protocol"));
            if (!isHeader) continue;
            header = line;
            for (var j = i + 1; j < end; j++)
            {
                if (Skip[j] || string.IsNullOrWhiteSpace(Lines[j])) continue;
                return DashesPattern().IsMatch(Lines[j]) ? j + 1 : i + 1;
            }

            return i + 1;
        }

        return -1;
    }

    private static bool IsHeading(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length is < 3 or > 60) return false;
        if (trimmed.Contains("..")) return false;
        var letters = 0;
        foreach (var c in trimmed)
        {
            if (char.IsLower(c)) return false;
            if (char.IsLetter(c)) letters++;
        }

        return letters >= 3 && HeadingPattern().IsMatch(trimmed);
    }

    [GeneratedRegex(@"^[A-Z][A-Z \t/&-]*[A-Z]$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"^\s*-{3,}(?:\s+-{3,})*\s*$")]
    private static partial Regex DashesPattern();
}
