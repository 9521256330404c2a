using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// One transport's segments in a <see cref="HistoryLedger"/>: the port space cut at every record boundary of every
/// edition so far, each segment with its versions. Appending an edition cuts where it has new boundaries (both
/// halves keep the versions they shared) and starts a version wherever it says something new, as
/// <see cref="RegistryHistory.Build"/> would over all editions.
/// </summary>
internal static class LedgerPorts
{
    public static readonly ImmutableArray<LedgerSegment> Empty = [new LedgerSegment(0, PortSpan.MaxPort, 0, [])];

    public static ImmutableArray<LedgerSegment> Append(ImmutableArray<LedgerSegment> segments, TransportProtocol transport, RegistryEdition edition,
        EditionIdentity identity, int editionIndex)
    {
        var records = edition.Records.Where(r => r.Ports is not null && PortSegments.AppliesTo(edition, r, transport)).ToList();
        var boundary = new bool[PortSpan.MaxPort + 2];
        foreach (var record in records)
        {
            boundary[record.Ports!.Value.First] = true;
            boundary[record.Ports.Value.Last + 1] = true;
        }

        var pieces = Cut(segments, boundary, editionIndex);
        var segmentOfPort = new int[PortSpan.MaxPort + 2];
        for (var s = 0; s < pieces.Count; s++) Array.Fill(segmentOfPort, s, pieces[s].First, pieces[s].Last - pieces[s].First + 1);
        segmentOfPort[PortSpan.MaxPort + 1] = pieces.Count;

        // Per segment: the index of the one record covering it, or a list when several do (in the file's order).
        var single = new int[pieces.Count];
        Array.Fill(single, -1);
        var several = new List<EditionRecord>?[pieces.Count];
        for (var r = 0; r < records.Count; r++)
        {
            var end = segmentOfPort[records[r].Ports!.Value.Last + 1];
            for (var s = segmentOfPort[records[r].Ports!.Value.First]; s < end; s++)
            {
                if (several[s] is { } list) list.Add(records[r]);
                else if (single[s] < 0) single[s] = r;
                else several[s] = [records[single[s]], records[r]];
            }
        }

        // A range record covers many segments: they share its state, its key and, where they had the same last
        // version, the version it starts. Records are told apart by their index, versions by identity.
        var singleStates = new (EditionRecord[] State, string Key)[records.Count];
        var started = new Dictionary<(LedgerVersion?, int), LedgerVersion?>();
        var result = ImmutableArray.CreateBuilder<LedgerSegment>(pieces.Count);
        for (var s = 0; s < pieces.Count; s++)
        {
            var piece = pieces[s];
            var last = piece.Versions.IsEmpty ? null : piece.Versions[^1];
            LedgerVersion? next;
            if (several[s] is { } list)
            {
                var state = PortStates.Normalize(list);
                next = LedgerVersion.Next(last, identity, state, PortStates.Key(state));
            }
            else if (!started.TryGetValue((last, single[s]), out next))
            {
                var (state, key) = single[s] < 0 ? (PortStates.Empty, "") : SingleState(single[s]);
                started[(last, single[s])] = next = LedgerVersion.Next(last, identity, state, key);
            }

            result.Add(next is null ? piece : piece with { Versions = piece.Versions.Add(next) });
        }

        return result.MoveToImmutable();

        (EditionRecord[], string) SingleState(int r)
        {
            if (singleStates[r].State is null)
            {
                EditionRecord[] state = [records[r]];
                singleStates[r] = (state, PortStates.Key(state));
            }

            return singleStates[r];
        }
    }

    /// <summary>The segments as they stood with the first <paramref name="count"/> editions: later versions dropped, later cuts joined.</summary>
    public static ImmutableArray<LedgerSegment> Truncate(ImmutableArray<LedgerSegment> segments, int count, Func<EditionIdentity, int> rankOf)
    {
        var kept = ImmutableArray.CreateBuilder<LedgerSegment>();
        foreach (var segment in segments)
        {
            if (segment.BornAt >= count && kept.Count > 0)
            {
                // No edition before the cut had a boundary here: both sides said the same in every one of them.
                kept[^1] = kept[^1] with { Last = segment.Last };
                continue;
            }

            var versions = segment.Versions;
            var keep = 0;
            while (keep < versions.Length && rankOf(versions[keep].From) < count) keep++;
            kept.Add(segment with { Versions = keep == versions.Length ? versions : versions[..keep] });
        }

        return kept.ToImmutable();
    }

    /// <summary>
    /// Segments read back from storage: the listed ones with their versions, the gaps between them empty. Where each
    /// cut was born is not stored, so such a ledger cannot be cut back (it is rebuilt instead).
    /// </summary>
    public static ImmutableArray<LedgerSegment> Restore(IEnumerable<(PortSpan Ports, ImmutableArray<LedgerVersion> Versions)> listed)
    {
        var result = ImmutableArray.CreateBuilder<LedgerSegment>();
        var next = 0;
        foreach (var (ports, versions) in listed.OrderBy(l => l.Ports.First))
        {
            if (ports.First < next) throw new ArgumentException($"segments overlap at port {ports.First}");
            if (ports.First > next) result.Add(new LedgerSegment(next, ports.First - 1, next == 0 ? 0 : -1, []));
            result.Add(new LedgerSegment(ports.First, ports.Last, ports.First == 0 ? 0 : -1, versions));
            next = ports.Last + 1;
        }

        if (next <= PortSpan.MaxPort) result.Add(new LedgerSegment(next, PortSpan.MaxPort, next == 0 ? 0 : -1, []));
        return result.ToImmutable();
    }

    /// <summary>Splits segments at the new boundaries; a piece cut here is born at this edition.</summary>
    private static List<LedgerSegment> Cut(ImmutableArray<LedgerSegment> segments, bool[] boundary, int editionIndex)
    {
        var pieces = new List<LedgerSegment>(segments.Length + 64);
        foreach (var segment in segments)
        {
            var start = segment.First;
            for (var port = segment.First + 1; port <= segment.Last; port++)
            {
                if (!boundary[port]) continue;
                pieces.Add(Piece(segment, start, port - 1));
                start = port;
            }

            pieces.Add(Piece(segment, start, segment.Last));
        }

        return pieces;

        LedgerSegment Piece(LedgerSegment segment, int first, int last) =>
            first == segment.First && last == segment.Last ? segment : segment with { First = first, Last = last, BornAt = first == segment.First ? segment.BornAt : editionIndex };
    }
}
