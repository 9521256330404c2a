using System.Globalization;
using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// Assigned Numbers RFCs (990, 1010, 1060, 1340, 1700): page furniture removed, the port sections found by their
/// headings, and each section's table read. RFC 1060's "UNIX PORTS" lists conventional use, not assignments.
/// Reference initials ("[JBP]") resolve through the RFC's PEOPLE list into contacts.
/// </summary>
public sealed partial class RfcAssignedNumbersParser : IEditionParser
{
    private static readonly HashSet<string> PortSections =
        ["ASSIGNED PORT NUMBERS", "PORT NUMBERS", "UNIX PORTS", "WELL KNOWN PORT NUMBERS", "REGISTERED PORT NUMBERS"];

    public EditionFileFormat Format => EditionFileFormat.RfcAssignedNumbers;

    public ParsedEdition Parse(EditionContent content)
    {
        content.RejectBinary();
        var warnings = new List<EditionParseWarning>();
        var lines = TextLines.Split(content.DecodeText(warnings)).Select(TextLines.ExpandTabs).ToArray();

        var (number, date) = ReadHeader(content, lines);
        var skip = MarkPageFurniture(lines);
        var document = new SectionedText(lines, skip);
        var people = ReadPeople(document);

        var drafts = new List<RecordDraft>();
        var sections = document.SectionsTitled(PortSections).ToList();
        if (sections.Count == 0)
        {
            throw content.Error(lines.Length,
                $"no port-number section (looked for {string.Join(", ", PortSections.Select(s => $"\"{s}\""))}) in RFC {number}");
        }

        foreach (var (title, start, end) in sections)
        {
            var tableStart = document.FindTableStart(start, end, out var header);
            if (tableStart < 0) throw content.Error(start, $"section \"{title}\" has no port table header");
            var context = new TableContext(title, title == "UNIX PORTS", header.IndexOf("Description", StringComparison.Ordinal),
                drafts, warnings, people);
            Action<int, string> read = header.TrimStart().StartsWith("Decimal", StringComparison.Ordinal)
                ? new DecimalTableReader(context, header.IndexOf("Keyword", StringComparison.Ordinal)).Read
                : new ServiceTableReader(context).Read;
            for (var i = tableStart; i < end; i++)
            {
                if (!skip[i]) read(i + 1, lines[i]);
            }
        }

        if (drafts.Count == 0) throw content.Error(sections[0].Start, "the port-number sections hold no entries");

        var month = date.ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        return new ParsedEdition(Format, $"RFC {number}: Assigned Numbers ({month})", date, EditionDateSource.Content,
            $"rfc{number}", [.. drafts.Select(d => d.ToRecord())], [.. warnings]);
    }

    private static (int Number, DateOnly Date) ReadHeader(EditionContent content, string[] lines)
    {
        for (var i = 0; i < Math.Min(lines.Length, 400); i++)
        {
            var match = HeaderPattern().Match(lines[i].Replace("\f", ""));
            if (!match.Success) continue;
            var number = int.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
            var date = DateTime.ParseExact($"{match.Groups["month"].Value} {match.Groups["year"].Value}", "MMMM yyyy", CultureInfo.InvariantCulture);
            if (!lines.Take(600).Any(l => l.Contains("Assigned Numbers", StringComparison.OrdinalIgnoreCase) ||
                                          l.Contains("ASSIGNED NUMBERS", StringComparison.Ordinal)))
            {
                throw content.Error(i + 1, $"RFC {number} does not call itself \"Assigned Numbers\"");
            }

            return (number, DateOnly.FromDateTime(date));
        }

        throw content.Error(1, "no RFC page header (\"RFC nnnn … Month Year\") in the first 400 lines; not an Assigned Numbers RFC");
    }

    /// <summary>Marks page footers ("Reynolds &amp; Postel  [Page 12]"), form feeds, running headers and running titles.</summary>
    private static bool[] MarkPageFurniture(string[] lines)
    {
        var skip = new bool[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            if (FooterPattern().IsMatch(lines[i])) skip[i] = true;
            if (!lines[i].Contains('\f')) continue;
            skip[i] = true;
            var j = i + 1;
            while (j < lines.Length && string.IsNullOrWhiteSpace(lines[j])) j++;
            if (j >= lines.Length || !HeaderPattern().IsMatch(lines[j])) continue;
            skip[j] = true;
            // RFC 990 and 1010 put a running title ("Port Numbers") right under the header line.
            var title = j + 1 < lines.Length ? lines[j + 1] : "";
            if (title.Trim().Length is > 0 and < 50 && char.IsLetter(title.TrimStart()[0])) skip[j + 1] = true;
        }

        return skip;
    }

    private static Dictionary<string, RegistryPerson> ReadPeople(SectionedText document)
    {
        var people = new Dictionary<string, RegistryPerson>(StringComparer.Ordinal);
        foreach (var (_, start, end) in document.SectionsTitled(["PEOPLE"]))
        {
            for (var i = start; i < end; i++)
            {
                if (document.Skip[i]) continue;
                var match = PersonPattern().Match(document.Lines[i]);
                if (!match.Success) continue;
                var parts = ColumnGap().Split(match.Groups["rest"].Value.Trim());
                var email = parts.Skip(1).FirstOrDefault(p => p.Contains('@') || p.Contains("none"));
                if (email is null && i + 1 < end && !document.Skip[i + 1] && document.Lines[i + 1].Contains('@') &&
                    !document.Lines[i + 1].TrimStart().StartsWith('['))
                {
                    email = document.Lines[i + 1].Trim();
                }

                var organization = parts.Length > 2 ? parts[1] : parts.Length == 2 && !parts[1].Contains('@') && !parts[1].Contains("none") ? parts[1] : null;
                people.TryAdd(match.Groups["id"].Value, new RegistryPerson(null, parts[0], email is null ? null : PersonText.Email(email), organization));
            }
        }

        return people;
    }

    [GeneratedRegex(@"^\s*RFC\s+(?<number>\d{3,4})\b.*?\b(?<month>January|February|March|April|May|June|July|August|September|October|November|December)\s+(?<year>(?:19|20)\d\d)\s*$")]
    private static partial Regex HeaderPattern();

    [GeneratedRegex(@"\[Page\s+\d+\]\s*$")]
    private static partial Regex FooterPattern();

    [GeneratedRegex(@"^\s*\[(?<id>[A-Z][A-Z0-9]*)\]\s+(?<rest>\S.*)$")]
    private static partial Regex PersonPattern();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex ColumnGap();
}
