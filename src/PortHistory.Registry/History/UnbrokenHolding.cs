using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// How long a (port, transport) has been held by what its version in effect lists first: the rule every "since" answers by.
/// A holding is the primary record's service with its status: it runs back through every edition that lists that service
/// (by its name or an alias, following renames the timeline records) with the same status, in any place on the port. It
/// ends at an edition that does not: the port unlisted, the service gone (another service, not a rename of it, holds the
/// port), or the status different (assigned, conventional, reserved, unassigned, de-assigned). So a new contact,
/// description or alias keeps the holding, and a rename with no gap keeps it too. A record without a name (unassigned,
/// reserved, "any private mail system") is held by its status, and an assignment without a name by its description.
/// Conventional use is not an assignment: RFC 1060's "rtip 771/tcp" under UNIX PORTS is a holding of its own, and the
/// assignment in RFC 1340 starts a new one, remembered as <see cref="RecordVersion.ConventionalSince"/>.
/// Only imported editions count, in history order: two consecutive editions that list the service are taken to hold it
/// in between, and the first edition of the history is the earliest a holding can start; with editions missing, "since"
/// comes out later, never earlier, than the registry's own record. An edition that leaves the service out breaks it.
/// </summary>
internal static class UnbrokenHolding
{
    /// <summary>Sets where each version's holding began; <paramref name="versions"/> are one timeline's, oldest first.</summary>
    public static void Apply(ImmutableArray<RecordVersion>.Builder versions)
    {
        for (var i = 0; i < versions.Count; i++)
        {
            var version = versions[i];
            if (version.Primary is not { } primary)
            {
                versions[i] = version with { HeldSince = version.From };
                continue;
            }

            var (start, holder) = RunStart(versions, i, primary.Status, Holder.Of(primary));
            EditionIdentity? conventionalSince = null;
            if (primary.Status == RecordStatus.Assigned && start > 0 &&
                versions[start - 1].Records.Any(r => r.Status == RecordStatus.Conventional && holder.Matches(r)))
            {
                conventionalSince = versions[RunStart(versions, start - 1, RecordStatus.Conventional, holder).Start].From;
            }

            versions[i] = version with { HeldSince = versions[start].From, ConventionalSince = conventionalSince };
        }
    }

    /// <summary>The first version of the run, through <paramref name="index"/>, that lists the holder with the status; and the holder as named there.</summary>
    private static (int Start, Holder Holder) RunStart(IReadOnlyList<RecordVersion> versions, int index, RecordStatus status, Holder holder)
    {
        var start = index;
        while (start > 0)
        {
            var before = holder.NamedBefore(versions[start]);
            if (!versions[start - 1].Records.Any(r => r.Status == status && before.Matches(r))) break;
            holder = before;
            start--;
        }

        return (start, holder);
    }

    /// <summary>What a holding is recognised by in other editions: the service's names, or for a nameless record its description.</summary>
    private sealed class Holder
    {
        private readonly HashSet<string> _names;
        private readonly string? _description;

        private Holder(HashSet<string> names, string? description)
        {
            _names = names;
            _description = description;
        }

        public static Holder Of(EditionRecord record) => record.ServiceName is { } name
            ? new Holder(new HashSet<string>(record.Aliases.Prepend(name), StringComparer.OrdinalIgnoreCase), null)
            : new Holder([], record.Status is RecordStatus.Assigned or RecordStatus.Conventional ? PortStates.Text(record.Description) : null);

        public bool Matches(EditionRecord record) => _names.Count == 0
            ? record.ServiceName is null && (_description is null || PortStates.Text(record.Description) == _description)
            : record.ServiceName is { } name && (_names.Contains(name) || record.Aliases.Any(_names.Contains));

        /// <summary>The holder as the version before <paramref name="version"/> may name it: with the names it was renamed from.</summary>
        public Holder NamedBefore(RecordVersion version)
        {
            var renamedFrom = version.Changes.Where(c => c.Kind == RecordChangeKind.Renamed && c.After is not null && _names.Contains(c.After) && c.Before is not null)
                .Select(c => c.Before!)
                .Concat(version.Records.Where(Matches).Select(r => r.Replaces).OfType<string>())
                .Where(name => !_names.Contains(name))
                .ToList();
            return renamedFrom.Count == 0 ? this : new Holder(new HashSet<string>(_names.Concat(renamedFrom), StringComparer.OrdinalIgnoreCase), _description);
        }
    }
}
