using System.Globalization;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// A host's /etc/services ("name port/proto [aliases …] [# comment]") or nmap-services ("name\tport/proto\tfrequency
/// [# comment]"): local conventional use. Neither carries a date; the file's modification time stands in unless the
/// caller gives one.
/// </summary>
public sealed class LocalServicesParser : IEditionParser
{
    private LocalServicesParser(EditionFileFormat format) => Format = format;

    public static LocalServicesParser EtcServices { get; } = new(EditionFileFormat.EtcServices);

    public static LocalServicesParser NmapServices { get; } = new(EditionFileFormat.NmapServices);

    public EditionFileFormat Format { get; }

    public ParsedEdition Parse(EditionContent content)
    {
        content.RejectBinary();
        var warnings = new List<EditionParseWarning>();
        var lines = TextLines.Split(content.DecodeText(warnings));
        var drafts = new List<RecordDraft>();
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i];
            var hash = text.IndexOf('#');
            var comment = hash >= 0 ? text[(hash + 1)..].Trim() : null;
            var body = (hash >= 0 ? text[..hash] : text).Trim();
            if (body.Length == 0) continue;

            var fields = body.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !TryPortProtocol(fields[1], out var port, out var transport))
            {
                warnings.Add(new EditionParseWarning(i + 1, "expected \"name port/protocol\"", text.Trim()));
                continue;
            }

            var draft = new RecordDraft
            {
                Line = i + 1,
                Section = Format.ToText(),
                Conventional = true,
                ServiceName = fields[0],
                Ports = PortSpan.Single(port),
                Transport = transport,
                Description = comment ?? "",
            };

            if (Format == EditionFileFormat.NmapServices)
            {
                if (fields.Length < 3 || !double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var frequency) || frequency is < 0 or > 1)
                {
                    warnings.Add(new EditionParseWarning(i + 1, "expected an open frequency between 0 and 1 in the third column", text.Trim()));
                    continue;
                }

                draft.OpenFrequency = frequency;
            }
            else
            {
                draft.Aliases.AddRange(fields.Skip(2));
            }

            drafts.Add(draft);
        }

        if (drafts.Count == 0) throw content.Error(lines.Length, $"no \"name port/protocol\" lines; not a {Format.ToText()} file");
        var date = content.LastModified is { } modified ? DateOnly.FromDateTime(modified.UtcDateTime) : (DateOnly?)null;
        var title = Format == EditionFileFormat.NmapServices ? "nmap-services" : "services file";
        return new ParsedEdition(Format, $"{title} ({Path.GetFileName(content.SourceName)})", date, EditionDateSource.Inferred,
            Format.ToText(), [.. drafts.Select(d => d.ToRecord())], [.. warnings]);
    }

    internal static bool TryPortProtocol(string field, out int port, out TransportProtocol transport)
    {
        port = 0;
        transport = TransportProtocol.Unspecified;
        var slash = field.IndexOf('/');
        return slash > 0 &&
               int.TryParse(field.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out port) &&
               port <= PortSpan.MaxPort &&
               TransportProtocols.TryParse(field[(slash + 1)..], out transport) &&
               transport != TransportProtocol.Unspecified;
    }
}
