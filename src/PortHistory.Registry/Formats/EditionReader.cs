using System.Text;
using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>Caller's choices when reading an edition; anything left null comes from the content.</summary>
public sealed record EditionReadOptions
{
    public EditionFileFormat? Format { get; init; }
    public DateOnly? EffectiveDate { get; init; }
    public string? Id { get; init; }
    public string? Title { get; init; }
}

/// <summary>
/// Entry point for reading an edition: detects the format from the content (or takes the caller's), runs that
/// format's parser, and settles the edition's id and effective date.
/// </summary>
public static partial class EditionReader
{
    private static readonly IEditionParser[] Parsers =
    [
        new RfcAssignedNumbersParser(),
        new IanaPortNumbersTextParser(),
        new IanaXmlParser(),
        new IanaCsvParser(),
        LocalServicesParser.EtcServices,
        LocalServicesParser.NmapServices,
    ];

    public static RegistryEdition ReadFile(string path, EditionReadOptions? options = null)
    {
        EditionContent content;
        try
        {
            content = EditionContent.FromFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EditionFormatException(path, null, null, $"cannot read the file: {e.Message}", e);
        }

        return Read(content, options);
    }

    public static RegistryEdition Read(EditionContent content, EditionReadOptions? options = null)
    {
        options ??= new EditionReadOptions();
        var format = options.Format ?? Detect(content);
        var parsed = Parsers.First(p => p.Format == format).Parse(content);

        var (date, dateSource) = options.EffectiveDate is { } given
            ? (given, EditionDateSource.Override)
            : parsed.Date is { } found && parsed.DateSource == EditionDateSource.Content
                ? (found, EditionDateSource.Content)
                : DateInFileName(content.SourceName) is { } named
                    ? (named, EditionDateSource.FileName)
                    : parsed.Date is { } inferred
                        ? (inferred, parsed.DateSource)
                        : throw content.Error(null, $"a {format.ToText()} edition needs a date and the file gives none; pass one");

        var id = options.Id ?? (format == EditionFileFormat.RfcAssignedNumbers ? parsed.IdStem : $"{parsed.IdStem}-{date:yyyy-MM-dd}");
        if (!IdPattern().IsMatch(id))
        {
            throw content.Error(null, $"edition id \"{id}\" must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        }

        return new RegistryEdition
        {
            Id = id,
            Format = format,
            Title = options.Title ?? parsed.Title,
            EffectiveDate = date,
            DateSource = dateSource,
            Source = content.SourceName,
            Sha256 = content.Sha256,
            Bytes = content.Bytes.Length,
            Records = parsed.Records,
            Warnings = parsed.Warnings,
        };
    }

    /// <summary>A yyyy-MM-dd in the file name ("service-names-port-numbers_2026-04-24.csv"), for formats without a date.</summary>
    private static DateOnly? DateInFileName(string source)
    {
        var match = FileNameDatePattern().Match(Path.GetFileName(source));
        return match.Success && DateOnly.TryParseExact(match.Value, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var date)
            ? date
            : null;
    }

    /// <summary>Recognises the format from the first part of the content.</summary>
    public static EditionFileFormat Detect(EditionContent content)
    {
        content.RejectBinary();
        var span = content.Bytes.Span;
        var head = Encoding.Latin1.GetString(span[..Math.Min(span.Length, 48 * 1024)]).TrimStart('\uFEFF', 'ï', '»', '¿', ' ', '\t', '\r', '\n');

        if (head.StartsWith("<?xml", StringComparison.Ordinal) || head.StartsWith("<registry", StringComparison.Ordinal)) return EditionFileFormat.IanaXml;
        var firstLine = head.Split('\n', 2)[0];
        if (firstLine.Contains("Port Number", StringComparison.OrdinalIgnoreCase) && firstLine.Contains(',')) return EditionFileFormat.IanaCsv;
        if (RfcHeaderPattern().IsMatch(head) && head.Contains("Assigned Numbers", StringComparison.OrdinalIgnoreCase)) return EditionFileFormat.RfcAssignedNumbers;
        if (head.Contains("(last updated", StringComparison.OrdinalIgnoreCase) || PortNumbersHeadingPattern().IsMatch(head)) return EditionFileFormat.IanaPortNumbersText;

        var lines = head.Split('\n').Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0).Take(200).ToList();
        if (lines.Count > 0)
        {
            if (lines.Count(l => NmapLinePattern().IsMatch(l)) * 2 > lines.Count) return EditionFileFormat.NmapServices;
            if (lines.Count(l => ServicesLinePattern().IsMatch(l)) * 2 > lines.Count) return EditionFileFormat.EtcServices;
        }

        throw content.Error(1, "unrecognised edition format (expected an Assigned Numbers RFC, IANA port-numbers text, IANA XML or CSV, /etc/services or nmap-services); name the format explicitly");
    }

    [GeneratedRegex(@"(?:19|20)\d\d-[01]\d-[0-3]\d")]
    private static partial Regex FileNameDatePattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^\s*RFC\s+\d{3,4}\b.*\b(?:19|20)\d\d\s*$", RegexOptions.Multiline)]
    private static partial Regex RfcHeaderPattern();

    [GeneratedRegex(@"^(?:PORT NUMBERS|WELL KNOWN PORT NUMBERS)\s*$", RegexOptions.Multiline)]
    private static partial Regex PortNumbersHeadingPattern();

    [GeneratedRegex(@"^\S+\t\d{1,5}/(?:tcp|udp|sctp)\t[0-9.]+")]
    private static partial Regex NmapLinePattern();

    [GeneratedRegex(@"^\S+\s+\d{1,5}/(?:tcp|udp|sctp|dccp|ddp)\b")]
    private static partial Regex ServicesLinePattern();
}
