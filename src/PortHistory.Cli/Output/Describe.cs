using PortHistory.Cli.Sources;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Output;

/// <summary>Short human wording for records and editions, shared by the table renderers.</summary>
public static class Describe
{
    public static string Service(EditionRecord? record) => record switch
    {
        null => "(not listed)",
        { ServiceName: { } name } when !record.Aliases.IsEmpty => $"{name} (alias {string.Join(", ", record.Aliases)})",
        { ServiceName: { } name } => name,
        _ => "-",
    };

    public static string Status(EditionRecord? record) => record switch
    {
        null => "not listed",
        { Status: RecordStatus.DeAssigned, Deassignment: { } deassignment } => $"de-assigned ({record.Description}; {Deassignment(deassignment)})",
        _ => record.Status.ToText(),
    };

    public static string Deassignment(DeassignmentNote deassignment) => (deassignment.On, deassignment.PreviousService) switch
    {
        ({ } on, { } previous) => $"on {on}, previously {previous}",
        ({ } on, null) => $"on {on}",
        (null, { } previous) => $"previously {previous}",
        _ => "no details",
    };

    public static string People(EditionRecord? record)
    {
        if (record is null) return "";
        var people = record.Assignees.Concat(record.Contacts).DistinctBy(p => p.Key).Select(p => p.ToString()).ToList();
        return string.Join("; ", people);
    }

    /// <summary>"nmap-services says wpages on 776/udp (open frequency 0.002043) [nmap-services-2023-01-16]".</summary>
    public static string Local(LocalEntry entry)
    {
        var text = new System.Text.StringBuilder($"{entry.TableName} says {entry.ServiceName} on {entry.Port}/{entry.Transport.ToText()}");
        if (entry.OpenFrequency is { } frequency) text.Append($" (open frequency {frequency.ToString("0.0#####", System.Globalization.CultureInfo.InvariantCulture)})");
        if (!entry.Aliases.IsEmpty) text.Append($" (alias {string.Join(", ", entry.Aliases)})");
        if (entry.Comment is { } comment) text.Append($" \"{comment}\"");
        text.Append($" [{entry.Edition.Id}, {entry.Source}]");
        return text.ToString();
    }

    public static string Edition(EditionIdentity edition) => $"{edition.Id} ({edition.Date:yyyy-MM-dd})";

    /// <summary>
    /// What a port answer says beyond "since" for one transport: "conventional use since rfc1060 (1990-03-01); record last
    /// changed 2004-01-08: contact added"; null when nothing.
    /// </summary>
    public static string? HoldingNotes(TransportAnswer transport)
    {
        var notes = new List<string>(2);
        if (transport.ConventionalSince is { } conventional) notes.Add($"conventional use since {Edition(conventional)}");
        if (transport is { HeldSince: { } held, Since: { } changed } &&
            HoldingWords.LastChange(held, changed, transport.Changes) is { } change)
        {
            notes.Add($"record last changed {change}");
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    public static string Changes(IEnumerable<RecordChange> changes) => string.Join("; ", changes.Select(c => c.ToString()));

    public static string Ports(PortSpan? ports) => ports?.ToString() ?? "(no port)";
}
