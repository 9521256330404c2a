using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// Reads the "Keyword  Decimal  Description  References" tables shared by RFC 1340, RFC 1700, RFC 1060's UNIX PORTS
/// and the IANA port-numbers text: entry lines ("rtip  771/tcp"), nameless entries ("  15/tcp Unassigned"),
/// commented entries ("#  778-779 Unassigned"), contact lines ("#  Josyula R. Rao &lt;…&gt;") that belong to the
/// entries above them, and wrapped descriptions.
/// </summary>
internal sealed partial class ServiceTableReader
{
    private readonly TableContext _context;
    private readonly List<RecordDraft> _group = [];
    private bool _groupHasContact;
    private RecordDraft? _last;

    public ServiceTableReader(TableContext context) => _context = context;

    public void Read(int line, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return;
        if (text.StartsWith('#'))
        {
            ReadComment(line, text[1..]);
            return;
        }

        if (TryEntry(line, text, commented: false)) return;
        if (TrySpacedNameEntry(line, text)) return;

        if (_last is not null && LeadingSpaces(text) >= _context.DescriptionColumn - 4)
        {
            var body = text.Trim();
            if (PersonText.HasAddress(body))
            {
                AttachContacts(body);
            }
            else
            {
                _last.AppendDescription(body);
            }

            return;
        }

        _context.Warn(line, "not a port entry, contact or continuation line", text.Trim());
    }

    private void ReadComment(int line, string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return;
        if (TryEntry(line, " " + body, commented: true)) return;

        var text = body.Trim();
        if (PersonText.HasAddress(text) || LooksLikeName(text) || ReferenceLinePattern().IsMatch(text))
        {
            if (_group.Count == 0 && _last is null)
            {
                _context.Warn(line, "contact line with no entry before it", text);
                return;
            }

            AttachContacts(text);
            return;
        }

        var target = _group.Count > 0 ? _group : (_last is null ? [] : [_last]);
        if (target.Count == 0)
        {
            _context.Warn(line, "comment with no entry before it", text);
            return;
        }

        foreach (var record in target) record.Notes.Add(text);
    }

    private bool TryEntry(int line, string text, bool commented)
    {
        var match = EntryPattern().Match(text);
        if (!match.Success) return false;

        var nameGroup = match.Groups["name"];
        var portGroup = match.Groups["port"];
        // A name starts in the first columns; a nameless port ends before the description column. Anything else
        // is a wrapped description that happens to contain a number ("Version 2 of …").
        if (nameGroup.Success ? nameGroup.Index > 4 : portGroup.Index + portGroup.Length > _context.DescriptionColumn + 2) return false;

        if (!PortSpan.TryParse(portGroup.Value, out var ports))
        {
            _context.Warn(line, $"port \"{portGroup.Value}\" is not a port number or range 0-65535", text.Trim());
            return true;
        }

        var transport = TransportProtocol.Unspecified;
        if (match.Groups["proto"].Success && !TransportProtocols.TryParse(match.Groups["proto"].Value, out transport))
        {
            _context.Warn(line, $"unknown transport \"{match.Groups["proto"].Value}\"", text.Trim());
            return true;
        }

        var name = nameGroup.Success ? nameGroup.Value : null;
        var draft = new RecordDraft
        {
            Line = line,
            Section = _context.Section,
            Conventional = _context.Conventional,
            ServiceName = name,
            Ports = ports,
            Transport = transport,
        };

        // "A value of 0 in the port numbers registry below indicates that no port has been allocated."
        if (name is not null && ports is { First: 0, Last: 0 }) draft.Ports = null;

        var description = match.Groups["desc"].Success ? match.Groups["desc"].Value : "";
        draft.Description = _context.TakeReferences(description, draft);

        if (_groupHasContact)
        {
            _group.Clear();
            _groupHasContact = false;
        }

        _group.Add(draft);
        _last = draft;
        _context.Add(draft);
        return true;
    }

    /// <summary>RFC 1700 has "intuitive edge  1355/tcp": a name with a space, kept with a warning.</summary>
    private bool TrySpacedNameEntry(int line, string text)
    {
        var match = SpacedNamePattern().Match(text);
        if (!match.Success) return false;
        _context.Warn(line, "service name contains a space; kept as written", text.Trim());
        return TryEntry(line, text.Replace(match.Groups["name"].Value, match.Groups["name"].Value.Replace(' ', '\u2423')), commented: false);
    }

    /// <summary>
    /// A contact line belongs to the entries right above it that share the last entry's name and port; that is
    /// how IANA carried these lines into the XML (compressnet 3 got Bernie Volz, compressnet 2 did not).
    /// "#  [RFC4960]" lines are references of the same entries.
    /// </summary>
    private void AttachContacts(string text)
    {
        var targets = ContactTargets();
        if (ReferenceLinePattern().IsMatch(text))
        {
            foreach (var record in targets) record.References.AddRange(text.Trim('[', ']', ' ').Split(',', StringSplitOptions.TrimEntries));
            _groupHasContact = true;
            return;
        }

        var (people, date) = PersonText.Parse(text);
        foreach (var record in targets)
        {
            record.Contacts.AddRange(people);
            if (date is not null) record.Registered ??= date;
        }

        _groupHasContact = true;
    }

    private List<RecordDraft> ContactTargets()
    {
        if (_group.Count == 0) return [_last!];
        var last = _group[^1];
        var targets = new List<RecordDraft>();
        for (var i = _group.Count - 1; i >= 0; i--)
        {
            var candidate = _group[i];
            if (!string.Equals(candidate.ServiceName, last.ServiceName, StringComparison.OrdinalIgnoreCase) || candidate.Ports != last.Ports) break;
            targets.Add(candidate);
        }

        return targets;
    }

    private static bool LooksLikeName(string text) => NamePattern().IsMatch(text);

    private static int LeadingSpaces(string text)
    {
        var count = 0;
        while (count < text.Length && text[count] == ' ') count++;
        return count;
    }

    [GeneratedRegex(@"^\s*(?:(?<name>[A-Za-z0-9]\S*)\s+)?(?<port>\d{1,6}(?:\s*-\s*\d{1,6})?)(?:/(?<proto>[A-Za-z]+))?(?=\s|$)(?:\s+(?<desc>.*?))?\s*$")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][\w.-]*(?: [A-Za-z0-9][\w.-]*)+)\s{2,}\d{1,5}/[a-z]+\b")]
    private static partial Regex SpacedNamePattern();

    [GeneratedRegex(@"^\[[A-Za-z0-9 ,._-]+\]$")]
    private static partial Regex ReferenceLinePattern();

    // "Jon Postel", "IANA", "Robert E. Johnson, III" — a short run of capitalised words, no sentence punctuation.
    [GeneratedRegex(@"^(?:[A-Z][\w.'-]*,?\s+){0,5}[A-Z][\w.'-]*$")]
    private static partial Regex NamePattern();
}
