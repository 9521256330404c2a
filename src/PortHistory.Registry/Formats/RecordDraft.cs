using System.Collections.Immutable;
using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// A record while a parser is still collecting it. <see cref="ToRecord"/> is the one place where every format's
/// raw fields turn into a <see cref="EditionRecord"/>: status, de-assignment, replacement and alias are derived
/// here from the same words whatever the format.
/// </summary>
internal sealed partial class RecordDraft
{
    public required int Line { get; init; }
    public string? Section { get; init; }
    public string? ServiceName { get; set; }
    public List<string> Aliases { get; } = [];
    public PortSpan? Ports { get; set; }
    public TransportProtocol Transport { get; set; }
    public string Description { get; set; } = "";
    public List<RegistryPerson> Assignees { get; } = [];
    public List<RegistryPerson> Contacts { get; } = [];
    public List<string> References { get; } = [];
    public string? Registered { get; set; }
    public string? Modified { get; set; }
    public List<string> Notes { get; } = [];
    public List<string> UnauthorizedUses { get; } = [];
    public string? ServiceCode { get; set; }
    public double? OpenFrequency { get; set; }

    /// <summary>The record states conventional use, not an assignment (RFC 1060 UNIX PORTS, local files).</summary>
    public bool Conventional { get; init; }

    public void AppendDescription(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return;
        Description = Description.Length == 0 ? text : Description + " " + text;
    }

    public EditionRecord ToRecord()
    {
        var name = Clean(ServiceName)?.Replace('\u2423', ' ');
        var description = TextLines.CollapseWhitespace(Description);
        string? replaces = null;
        var replacement = ReplacementPattern().Match(description);
        if (replacement.Success)
        {
            replaces = replacement.Groups["old"].Value;
            description = TextLines.CollapseWhitespace(description.Remove(replacement.Index, replacement.Length));
        }

        var notes = Collapsed(Notes);
        string? aliasOf = null;
        foreach (var note in notes)
        {
            var alias = AliasPattern().Match(note);
            if (alias.Success) aliasOf = alias.Groups[1].Value;
        }

        var deassignment = Conventional ? null : FindDeassignment(description, notes);
        var status = Conventional ? RecordStatus.Conventional : DeriveStatus(name, description, deassignment);

        return new EditionRecord
        {
            ServiceName = name,
            Aliases = Aliases.Count == 0 ? [] : [.. Aliases.Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)],
            Ports = Ports,
            Transport = Transport,
            Status = status,
            Description = description,
            Assignees = [.. Assignees],
            Contacts = [.. Contacts],
            References = References.Count == 0 ? [] : [.. References.Select(r => r.Trim()).Where(r => r.Length > 0)],
            Registered = Clean(Registered),
            Modified = Clean(Modified),
            Notes = notes,
            UnauthorizedUses = Collapsed(UnauthorizedUses),
            Deassignment = deassignment,
            Replaces = replaces,
            AliasOf = aliasOf,
            ServiceCode = Clean(ServiceCode),
            OpenFrequency = OpenFrequency,
            Section = Section,
            Line = Line,
        };
    }

    private static ImmutableArray<string> Collapsed(List<string> texts) =>
        texts.Count == 0 ? [] : [.. texts.Select(TextLines.CollapseWhitespace).Where(t => t.Length > 0)];

    private static string? Clean(string? text)
    {
        text = text?.Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    private static RecordStatus DeriveStatus(string? name, string description, DeassignmentNote? deassignment)
    {
        if (deassignment is not null || WithdrawnPattern().IsMatch(description)) return RecordStatus.DeAssigned;
        if (name is null)
        {
            if (ReservedPattern().IsMatch(description)) return RecordStatus.Reserved;
            if (UnassignedPattern().IsMatch(description)) return RecordStatus.Unassigned;
        }

        return RecordStatus.Assigned;
    }

    private static DeassignmentNote? FindDeassignment(string description, ImmutableArray<string> notes)
    {
        string? on = null;
        string? previous = null;
        var found = false;
        for (var i = -1; i < notes.Length; i++)
        {
            var text = i < 0 ? description : notes[i];
            var deassigned = DeassignedOnPattern().Match(text);
            if (deassigned.Success)
            {
                found = true;
                on ??= deassigned.Groups["date"].Value;
            }

            var was = WasNamePattern().Match(text);
            if (was.Success)
            {
                found = true;
                previous ??= was.Groups["name"].Value;
            }

            // "previously X" and "Historic usage was X" name the old service only next to a de-assignment.
            var previously = PreviousNamePattern().Match(text);
            if (previously.Success && deassigned.Success) previous ??= previously.Groups["name"].Value.TrimEnd('.', ',');
        }

        return found ? new DeassignmentNote(on, previous) : null;
    }

    [GeneratedRegex(@"IANA assigned this well-formed service name as a replacement for\s+""(?<old>[^""]+)""\.?", RegexOptions.IgnoreCase)]
    private static partial Regex ReplacementPattern();

    [GeneratedRegex(@"This entry is an alias to\s+""([^""]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex AliasPattern();

    [GeneratedRegex(@"de-?assigned(?:\s+on)?\s+(?<date>\d{4}-\d{2}-\d{2})", RegexOptions.IgnoreCase)]
    private static partial Regex DeassignedOnPattern();

    [GeneratedRegex(@"\[was\s+(?<name>[^\]\s]+)\]", RegexOptions.IgnoreCase)]
    private static partial Regex WasNamePattern();

    [GeneratedRegex(@"(?:previously|historic usage was)\s+(?<name>[A-Za-z0-9][\w.+*/-]*)", RegexOptions.IgnoreCase)]
    private static partial Regex PreviousNamePattern();

    [GeneratedRegex(@"^(?:de-?registered|removed|de-?commissioned|decomissioned|deprecated)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WithdrawnPattern();

    [GeneratedRegex(@"^(?:IANA\s+)?reserved\b", RegexOptions.IgnoreCase)]
    private static partial Regex ReservedPattern();

    [GeneratedRegex(@"^\(?unassigned\b", RegexOptions.IgnoreCase)]
    private static partial Regex UnassignedPattern();
}
