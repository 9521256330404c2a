using System.Globalization;
using System.Text.RegularExpressions;
using CsvHelper;
using CsvHelper.Configuration;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// IANA service-names-port-numbers.csv: 12 columns, CRLF records, LF inside quoted fields. The file carries no
/// edition date; the newest registration/modification date in it stands in unless the caller gives one.
/// </summary>
public sealed partial class IanaCsvParser : IEditionParser
{
    private static readonly string[][] Columns =
    [
        ["Service Name"], ["Port Number"], ["Transport Protocol"], ["Description"], ["Assignee"], ["Contact"],
        ["Registration Date"], ["Modification Date"], ["Reference"], ["Service Code"],
        ["Unauthorized Use Reported", "Known Unauthorized Uses"], ["Assignment Notes"],
    ];

    public EditionFileFormat Format => EditionFileFormat.IanaCsv;

    public ParsedEdition Parse(EditionContent content)
    {
        content.RejectBinary();
        var warnings = new List<EditionParseWarning>();
        var text = content.DecodeText(warnings);
        var records = new List<EditionRecord>();
        string? newest = null;

        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = true,
            DetectColumnCountChanges = false,
            BadDataFound = null,
            Mode = CsvMode.RFC4180,
        };
        using var reader = new StringReader(text);
        using var parser = new CsvParser(reader, configuration);
        try
        {
            if (!parser.Read()) throw content.Error(1, "the file has no header row");
            CheckHeader(content, parser.Record ?? []);
            var nextLine = parser.RawRow + 1;
            while (parser.Read())
            {
                var line = nextLine;
                nextLine = parser.RawRow + 1;
                var fields = parser.Record ?? [];
                if (fields.Length == 1 && fields[0].Length == 0) continue;
                if (fields.Length != Columns.Length)
                {
                    warnings.Add(new EditionParseWarning(line, $"row has {fields.Length} fields, expected {Columns.Length}; row skipped", string.Join(",", fields)));
                    continue;
                }

                var record = ReadRow(line, fields, warnings);
                if (record is null) continue;
                records.Add(record);
                foreach (var date in new[] { record.Registered, record.Modified })
                {
                    if (date is not null && string.CompareOrdinal(date, newest) > 0 && IsoDatePattern().IsMatch(date)) newest = date;
                }
            }
        }
        catch (CsvHelperException e) when (e is not null)
        {
            throw content.Error(e.Context?.Parser?.RawRow, $"CSV is malformed: {e.Message.Split('\n')[0]}");
        }

        if (records.Count == 0) throw content.Error(parser.RawRow, "the file holds no rows after its header");

        DateOnly? inferred = newest is not null && DateOnly.TryParseExact(newest[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : null;
        return new ParsedEdition(Format, "IANA service-names-port-numbers.csv", inferred, EditionDateSource.Inferred, "iana-csv",
            [.. records], [.. warnings]);
    }

    private static void CheckHeader(EditionContent content, string[] header)
    {
        for (var i = 0; i < Columns.Length; i++)
        {
            var actual = i < header.Length ? header[i].Trim() : null;
            if (actual is null || !Columns[i].Contains(actual, StringComparer.OrdinalIgnoreCase))
            {
                var missing = Columns[i][0];
                throw content.Error(1, actual is null
                    ? $"header has {header.Length} columns; column {i + 1} \"{missing}\" is missing"
                    : $"header column {i + 1} is \"{actual}\", expected \"{string.Join("\" or \"", Columns[i])}\"");
            }
        }
    }

    private static EditionRecord? ReadRow(int line, string[] fields, List<EditionParseWarning> warnings)
    {
        var draft = new RecordDraft
        {
            Line = line,
            ServiceName = fields[0],
            Description = fields[3],
            Registered = fields[6],
            Modified = fields[7],
            ServiceCode = fields[9],
        };

        if (fields[1].Trim().Length > 0)
        {
            if (!PortSpan.TryParse(fields[1], out var ports))
            {
                warnings.Add(new EditionParseWarning(line, $"port \"{fields[1]}\" is not a port or range 0-65535; row skipped"));
                return null;
            }

            draft.Ports = ports;
        }

        if (!TransportProtocols.TryParse(fields[2], out var transport))
        {
            warnings.Add(new EditionParseWarning(line, $"unknown transport \"{fields[2]}\"; row skipped"));
            return null;
        }

        draft.Transport = transport;
        draft.Assignees.AddRange(Bracketed(fields[4]).Select(id => new RegistryPerson(id, null, null)));
        draft.Contacts.AddRange(Bracketed(fields[5]).Select(id => new RegistryPerson(id, null, null)));
        draft.References.AddRange(Bracketed(fields[8]));
        if (fields[10].Trim().Length > 0) draft.UnauthorizedUses.Add(fields[10]);
        if (fields[11].Trim().Length > 0) draft.Notes.Add(fields[11]);
        return draft.ToRecord();
    }

    /// <summary>"[Jon_Postel]" or "[RFC6335][RFC9110]" → the bracketed items; unbracketed text is kept whole.</summary>
    private static IEnumerable<string> Bracketed(string field)
    {
        field = field.Trim();
        if (field.Length == 0) yield break;
        var matches = BracketPattern().Matches(field);
        if (matches.Count == 0)
        {
            yield return field;
            yield break;
        }

        foreach (Match match in matches) yield return match.Groups[1].Value.Trim();
    }

    [GeneratedRegex(@"\[([^\[\]]+)\]")]
    private static partial Regex BracketPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}")]
    private static partial Regex IsoDatePattern();
}
