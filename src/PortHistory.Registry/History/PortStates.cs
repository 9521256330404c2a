using System.Collections.Immutable;
using System.Text;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// The records one edition lists for one (port, transport), made comparable across editions and formats:
/// alias entries fold into the entry they alias, the strongest status comes first, and a semantic key says
/// whether two states mean the same (name, status, description, people, aliases, de-assignment, unauthorized
/// uses) whatever the format's spelling, line numbers or citation style.
/// </summary>
internal static class PortStates
{
    public static readonly EditionRecord[] Empty = [];

    /// <summary>Orders and alias-folds the records covering one (port, transport) in one edition.</summary>
    public static EditionRecord[] Normalize(IReadOnlyList<EditionRecord> covering)
    {
        if (covering.Count == 0) return Empty;
        if (covering.Count == 1) return covering as EditionRecord[] ?? [covering[0]];

        var records = covering.ToList();
        for (var i = records.Count - 1; i >= 0; i--)
        {
            var alias = records[i];
            if (alias.AliasOf is null || alias.ServiceName is null) continue;
            var target = records.FindIndex(r => !ReferenceEquals(r, alias) && string.Equals(r.ServiceName, alias.AliasOf, StringComparison.OrdinalIgnoreCase));
            if (target < 0) continue;
            var primary = records[target];
            if (!primary.Aliases.Contains(alias.ServiceName, StringComparer.OrdinalIgnoreCase))
            {
                records[target] = primary with { Aliases = primary.Aliases.Add(alias.ServiceName) };
            }

            records.RemoveAt(i);
        }

        // Stable: equal precedence keeps the edition's own order.
        return [.. records.Select((r, i) => (r, i)).OrderByDescending(x => x.r.Status.Precedence()).ThenBy(x => x.i).Select(x => x.r)];
    }

    public static string Key(IReadOnlyList<EditionRecord> state)
    {
        if (state.Count == 0) return "";
        if (state.Count == 1) return RecordKey(state[0]);
        return string.Join("\u001e", state.Select(RecordKey).Order(StringComparer.Ordinal));
    }

    public static string RecordKey(EditionRecord record)
    {
        var builder = new StringBuilder(96 + record.Description.Length);
        // The name exactly as written: versions show their first listing, so "TCPMUX" (RFC 1060) and "tcpmux"
        // (RFC 1340 on) are two versions, the second a rename, rather than 2026 answering with RFC 1060's spelling.
        builder.Append((int)record.Status).Append('|')
            .Append(record.ServiceName).Append('|');
        if (!record.Aliases.IsEmpty) builder.AppendJoin(',', record.Aliases.Select(a => a.ToLowerInvariant()).Order(StringComparer.Ordinal));
        builder.Append('|');
        AppendText(builder, record.Description);
        builder.Append('|')
            .Append(PeopleKey(record)).Append('|')
            .Append(record.Deassignment?.On).Append('/').Append(record.Deassignment?.PreviousService?.ToLowerInvariant()).Append('|');
        if (!record.UnauthorizedUses.IsEmpty) builder.AppendJoin(',', record.UnauthorizedUses.Select(Text).Order(StringComparer.Ordinal));
        return builder.ToString();
    }

    /// <summary>
    /// Assignees and contacts together: text editions name one person where XML names the same person twice.
    /// Only an assignment has people of its own; the name on an unassigned or reserved entry is the registry's
    /// bookkeeping ("[JBP]") and comes and goes with the format, so it does not make a new version.
    /// </summary>
    public static string PeopleKey(EditionRecord record)
    {
        if (record.Status != RecordStatus.Assigned) return "";
        var count = record.Assignees.Length + record.Contacts.Length;
        if (count == 0) return "";
        if (count == 1) return (record.Assignees.IsEmpty ? record.Contacts[0] : record.Assignees[0]).Key;
        return string.Join(",", record.Assignees.Concat(record.Contacts).Select(p => p.Key).Where(k => k.Length > 0).Distinct().Order(StringComparer.Ordinal));
    }

    public static string PeopleText(EditionRecord record)
    {
        var people = record.Assignees.Concat(record.Contacts).DistinctBy(p => p.Key).Select(p => p.DisplayName).ToList();
        return people.Count == 0 ? RecordChange.NoPeople : string.Join(", ", people);
    }

    /// <summary>Descriptions compare case- and spacing-insensitively: RFC 990 writes "Echo" where others write "echo".</summary>
    public static string Text(string text) => AppendText(new StringBuilder(text.Length), text).ToString();

    /// <summary>
    /// What <see cref="Text"/> gives, appended without the copies: words split at white space joined by one space,
    /// dots at the very end dropped, lower-cased as a whole (semantic keys are stored hashed, so they must not change).
    /// </summary>
    private static StringBuilder AppendText(StringBuilder builder, string text)
    {
        if (text.Length == 0) return builder;
        var buffer = text.Length <= 512 ? stackalloc char[text.Length] : new char[text.Length];
        var length = 0;
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = length > 0;
                continue;
            }

            if (pendingSpace) buffer[length++] = ' ';
            pendingSpace = false;
            buffer[length++] = c;
        }

        var words = buffer[..length].TrimEnd('.');
        var lower = words.Length <= 512 ? stackalloc char[words.Length] : new char[words.Length];
        words.ToLowerInvariant(lower);
        return builder.Append(lower);
    }

    public static string Describe(EditionRecord record) => record switch
    {
        { ServiceName: { } name } => $"{name} ({record.Status.ToText()})",
        { Status: RecordStatus.DeAssigned, Deassignment: { } deassignment } =>
            $"de-assigned ({record.Description}){(deassignment.On is null ? "" : $" on {deassignment.On}")}{(deassignment.PreviousService is null ? "" : $", previously {deassignment.PreviousService}")}",
        _ => record.Status.ToText() + (record.Description.Length > 0 && !string.Equals(record.Description, record.Status.ToText(), StringComparison.OrdinalIgnoreCase) ? $" \"{record.Description}\"" : ""),
    };

    /// <summary>Classifies the difference between two states of the same (port, transport).</summary>
    public static ImmutableArray<RecordChange> Compare(IReadOnlyList<EditionRecord> before, IReadOnlyList<EditionRecord> after)
    {
        if (before.Count == 0 && after.Count == 0) return [];
        if (before.Count == 0) return [new RecordChange(RecordChangeKind.Appeared, "status", null, Describe(after[0]))];
        if (after.Count == 0) return [new RecordChange(RecordChangeKind.Removed, "status", Describe(before[0]), null)];

        var changes = ImmutableArray.CreateBuilder<RecordChange>();
        var p = before[0];
        var c = after[0];
        if (p.Status != c.Status)
        {
            if (p.Status == RecordStatus.Assigned &&
                c.Status is RecordStatus.DeAssigned or RecordStatus.Reserved or RecordStatus.Unassigned)
            {
                changes.Add(new RecordChange(RecordChangeKind.DeAssigned, "status", Describe(p), Describe(c)));
            }
            else if (c.Status == RecordStatus.Assigned)
            {
                changes.Add(new RecordChange(RecordChangeKind.Assigned, "status", Describe(p), Describe(c)));
            }
            else
            {
                changes.Add(new RecordChange(RecordChangeKind.StatusChanged, "status", p.Status.ToText(), c.Status.ToText()));
            }
        }

        var sameName = string.Equals(p.ServiceName, c.ServiceName, StringComparison.OrdinalIgnoreCase);
        if (!sameName && p.ServiceName is not null && c.ServiceName is not null &&
            p.Status is RecordStatus.Assigned or RecordStatus.Conventional &&
            c.Status is RecordStatus.Assigned or RecordStatus.Conventional)
        {
            changes.Add(new RecordChange(IsRename(p, c) ? RecordChangeKind.Renamed : RecordChangeKind.Reassigned, "service_name", p.ServiceName, c.ServiceName));
        }

        if (sameName || p.ServiceName is null || c.ServiceName is null)
        {
            if (Text(p.Description) != Text(c.Description) && p.Status == c.Status)
            {
                changes.Add(new RecordChange(RecordChangeKind.DescriptionChanged, "description", p.Description, c.Description));
            }

            if (p.Status == RecordStatus.Assigned && c.Status == RecordStatus.Assigned && PeopleKey(p) != PeopleKey(c)) changes.Add(new RecordChange(RecordChangeKind.ContactChanged, "contact", PeopleText(p), PeopleText(c)));
            var aliasesBefore = string.Join(", ", p.Aliases.Order(StringComparer.OrdinalIgnoreCase));
            var aliasesAfter = string.Join(", ", c.Aliases.Order(StringComparer.OrdinalIgnoreCase));
            if (!string.Equals(aliasesBefore, aliasesAfter, StringComparison.OrdinalIgnoreCase))
            {
                changes.Add(new RecordChange(RecordChangeKind.AliasesChanged, "aliases", aliasesBefore, aliasesAfter));
            }
        }

        var namesBefore = before.Skip(1).Select(r => r.ServiceName).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var namesAfter = after.Skip(1).Select(r => r.ServiceName).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var added in after.Skip(1).Where(r => r.ServiceName is not null && !namesBefore.Contains(r.ServiceName) &&
                                                      !string.Equals(r.ServiceName, p.ServiceName, StringComparison.OrdinalIgnoreCase)))
        {
            changes.Add(new RecordChange(RecordChangeKind.ServiceAdded, "service_name", null, added.ServiceName));
        }

        foreach (var removed in before.Skip(1).Where(r => r.ServiceName is not null && !namesAfter.Contains(r.ServiceName) &&
                                                         !string.Equals(r.ServiceName, c.ServiceName, StringComparison.OrdinalIgnoreCase)))
        {
            changes.Add(new RecordChange(RecordChangeKind.ServiceRemoved, "service_name", removed.ServiceName, null));
        }

        if (changes.Count == 0 && Key(before) != Key(after))
        {
            var fields = new List<string>();
            if (!p.UnauthorizedUses.SequenceEqual(c.UnauthorizedUses)) fields.Add("unauthorized use");
            if (p.Deassignment != c.Deassignment) fields.Add("de-assignment");
            if (before.Count != after.Count || fields.Count == 0) fields.Add("listed services");
            changes.Add(new RecordChange(RecordChangeKind.DetailsChanged, string.Join(", ", fields), null, null));
        }

        return changes.ToImmutable();
    }

    /// <summary>
    /// A new name is the same assignment renamed when the registry says so (replacement, alias) or when the
    /// names differ only in punctuation or case ("pop-2" → "pop2"), or description or people carry over.
    /// </summary>
    private static bool IsRename(EditionRecord before, EditionRecord after)
    {
        if (string.Equals(after.Replaces, before.ServiceName, StringComparison.OrdinalIgnoreCase)) return true;
        if (after.Aliases.Contains(before.ServiceName!, StringComparer.OrdinalIgnoreCase)) return true;
        if (RegistryPerson.Normalize(before.ServiceName!) == RegistryPerson.Normalize(after.ServiceName!)) return true;
        if (Text(before.Description).Length > 0 && Text(before.Description) == Text(after.Description)) return true;
        var people = PeopleKey(before);
        return people.Length > 0 && people == PeopleKey(after);
    }
}
