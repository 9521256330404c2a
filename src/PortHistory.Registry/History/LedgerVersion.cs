using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// A version as a <see cref="HistoryLedger"/> keeps it: where it starts, the records as listed there and how it
/// differs from the version before. Where it ends is not kept: it is the start of the next version, or the newest
/// edition, so an edition that changes nothing leaves every version as it was.
/// </summary>
public sealed class LedgerVersion
{
    internal LedgerVersion(EditionIdentity from, ImmutableArray<EditionRecord> records, ImmutableArray<RecordChange> changes, string key,
        EditionRecord? firstListed = null)
    {
        From = from;
        Records = records;
        Changes = changes;
        Key = key;
        FirstListed = firstListed;
    }

    /// <summary>A version read back from storage (its key is computed again).</summary>
    public static LedgerVersion Restore(EditionIdentity from, ImmutableArray<EditionRecord> records, ImmutableArray<RecordChange> changes,
        EditionRecord? firstListed = null) =>
        new(from, records, changes, PortStates.Key(records), firstListed);

    public EditionIdentity From { get; }

    /// <summary>As listed in <see cref="From"/>; empty when the port (or name) stopped being listed.</summary>
    public ImmutableArray<EditionRecord> Records { get; }

    public ImmutableArray<RecordChange> Changes { get; }

    /// <summary>The semantic key of <see cref="Records"/> (<see cref="RegistryHistory.StateKey"/>): equal keys, equal meaning.</summary>
    public string Key { get; }

    /// <summary>
    /// Name-only registrations: the first record of the name in <see cref="From"/> in the file's own order, which names
    /// a holding that starts here (the records are ordered by status).
    /// </summary>
    public EditionRecord? FirstListed { get; }

    public EditionRecord? Primary => Records.IsEmpty ? null : Records[0];

    /// <summary>The version as timelines show it, ending at <paramref name="through"/>.</summary>
    public RecordVersion ToVersion(EditionIdentity through, int editionCount) => new(From, through, editionCount, Records, Changes);

    /// <summary>The next version of a run of states: null when the new state says what the last version says.</summary>
    internal static LedgerVersion? Next(LedgerVersion? last, EditionIdentity edition, EditionRecord[] state, string key, EditionRecord? firstListed = null)
    {
        // Before its first listing a port has no version, not an empty one.
        if (last is null) return state.Length == 0 ? null : new LedgerVersion(edition, [.. state], PortStates.Compare(PortStates.Empty, state), key, firstListed);
        if (last.Key == key) return null;
        return new LedgerVersion(edition, [.. state], PortStates.Compare(last.Records, state), key, firstListed);
    }
}

/// <summary>A run of ports of one transport that every edition so far treats alike, with the versions they share.</summary>
/// <param name="BornAt">
/// Index of the first edition with a record boundary at <see cref="First"/>: cutting the history back before it joins
/// the segment to the one before. -1 when not known (a ledger restored from storage).
/// </param>
public sealed record LedgerSegment(int First, int Last, int BornAt, ImmutableArray<LedgerVersion> Versions)
{
    public PortSpan Ports => new(First, Last);
}

/// <summary>The versions of one registration without a port, per (name, transport).</summary>
public sealed record LedgerNameOnly(string NameLower, TransportProtocol Transport, ImmutableArray<LedgerVersion> Versions)
{
    /// <summary>The name as its first version lists it.</summary>
    public string Name => Versions.SelectMany(v => v.Records).Select(r => r.ServiceName).First(n => n is not null)!;
}
