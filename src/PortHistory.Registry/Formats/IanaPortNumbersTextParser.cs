using System.Globalization;
using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// The IANA "port-numbers" plain-text registry (until 2010): a preamble with "(last updated …)" in ISO or English
/// form, then WELL KNOWN and REGISTERED sections whose tables carry '#' contact lines under their entries.
/// </summary>
public sealed partial class IanaPortNumbersTextParser : IEditionParser
{
    private static readonly HashSet<string> PortSections = ["WELL KNOWN PORT NUMBERS", "REGISTERED PORT NUMBERS"];
    private static readonly string[] EnglishDates = ["d MMMM yyyy", "dd MMMM yyyy", "MMMM d, yyyy", "MMMM d yyyy", "d MMM yyyy"];

    public EditionFileFormat Format => EditionFileFormat.IanaPortNumbersText;

    public ParsedEdition Parse(EditionContent content)
    {
        content.RejectBinary();
        var warnings = new List<EditionParseWarning>();
        var lines = TextLines.Split(content.DecodeText(warnings)).Select(TextLines.ExpandTabs).ToArray();
        var date = ReadLastUpdated(content, lines);

        var document = new SectionedText(lines, new bool[lines.Length]);
        var sections = document.SectionsTitled(PortSections).ToList();
        if (sections.Count == 0)
        {
            throw content.Error(lines.Length, "no \"WELL KNOWN PORT NUMBERS\" or \"REGISTERED PORT NUMBERS\" section");
        }

        var drafts = new List<RecordDraft>();
        foreach (var (section, start, end) in sections)
        {
            var tableStart = document.FindTableStart(start, end, out var header);
            if (tableStart < 0) throw content.Error(start, $"section \"{section}\" has no \"Keyword Decimal Description\" table header");
            var reader = new ServiceTableReader(new TableContext(section, false, header.IndexOf("Description", StringComparison.Ordinal), drafts, warnings));
            for (var i = tableStart; i < end; i++) reader.Read(i + 1, lines[i]);
        }

        if (drafts.Count == 0) throw content.Error(sections[0].Start, "the port sections hold no entries");
        var title = date is { } d ? $"IANA port-numbers (last updated {d:yyyy-MM-dd})" : "IANA port-numbers";
        return new ParsedEdition(Format, title, date, EditionDateSource.Content, "iana-text",
            [.. drafts.Select(r => r.ToRecord())], [.. warnings]);
    }

    private static DateOnly? ReadLastUpdated(EditionContent content, string[] lines)
    {
        for (var i = 0; i < Math.Min(lines.Length, 60); i++)
        {
            var match = LastUpdatedPattern().Match(lines[i]);
            if (!match.Success) continue;
            var text = TextLines.CollapseWhitespace(match.Groups["date"].Value);
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var iso)) return iso;
            if (DateOnly.TryParseExact(text, EnglishDates, CultureInfo.InvariantCulture, DateTimeStyles.None, out var english)) return english;
            throw content.Error(i + 1, $"cannot read the date in \"(last updated {text})\"");
        }

        return null;
    }

    [GeneratedRegex(@"\(last updated\s+(?<date>[^)]+)\)", RegexOptions.IgnoreCase)]
    private static partial Regex LastUpdatedPattern();
}
