using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// The registry history kept compact for a server that receives one edition after another: per transport the
/// segments and their versions, and the versions of name-only registrations, but not the editions' records. It grows
/// with what changes, not with the number of editions, and a newer edition is appended in time proportional to its
/// own size. It holds exactly what <see cref="RegistryHistory.Build"/> computes from the same editions (the tests
/// compare the two on the real editions); an edition that sorts before the newest needs the ledger cut back with
/// <see cref="Truncate"/> and the later editions appended again.
/// </summary>
public sealed class HistoryLedger
{
    private readonly ImmutableDictionary<TransportProtocol, ImmutableArray<LedgerSegment>> _ports;
    private readonly Dictionary<string, int> _rankById;

    private HistoryLedger(ImmutableArray<EditionIdentity> editions, ImmutableDictionary<TransportProtocol, ImmutableArray<LedgerSegment>> ports,
        ImmutableSortedDictionary<(TransportProtocol, string), LedgerNameOnly> nameOnly)
    {
        Editions = editions;
        _ports = ports;
        NameOnlyByKey = nameOnly;
        _rankById = editions.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
    }

    public static HistoryLedger Empty { get; } = new([], TransportProtocols.All.ToImmutableDictionary(t => t, _ => LedgerPorts.Empty),
        ImmutableSortedDictionary.Create<(TransportProtocol, string), LedgerNameOnly>(NameOnlyOrder.Instance));

    /// <summary>Registry editions in history order: an edition's rank is its index here.</summary>
    public ImmutableArray<EditionIdentity> Editions { get; }

    public EditionIdentity? Newest => Editions.IsEmpty ? null : Editions[^1];

    /// <summary>Name-only registrations in transport, then name order.</summary>
    public IEnumerable<LedgerNameOnly> NameOnly => NameOnlyByKey.Values;

    /// <summary>True when every cut knows the edition it was born in: the ledger can be cut back (not so when restored from storage).</summary>
    public bool CanTruncate => _ports.Values.All(segments => segments.All(s => s.BornAt >= 0));

    private ImmutableSortedDictionary<(TransportProtocol, string), LedgerNameOnly> NameOnlyByKey { get; }

    /// <summary>One transport's segments in port order, covering 0-65535 (segments never listed have no versions).</summary>
    public ImmutableArray<LedgerSegment> Segments(TransportProtocol transport) => _ports[transport];

    public int RankOf(EditionIdentity edition) => RankOf(edition.Id);

    public int RankOf(string editionId) => _rankById.TryGetValue(editionId, out var rank) ? rank : -1;

    /// <summary>Where a version ends: the edition before the next version starts, or the newest.</summary>
    public EditionIdentity ThroughOf(ImmutableArray<LedgerVersion> versions, int index) =>
        index + 1 < versions.Length ? Editions[RankOf(versions[index + 1].From) - 1] : Editions[^1];

    /// <summary>The versions with their ends and since when each holding runs, as timelines show them.</summary>
    public ImmutableArray<RecordVersion> Versions(ImmutableArray<LedgerVersion> versions)
    {
        var shown = ImmutableArray.CreateBuilder<RecordVersion>(versions.Length);
        for (var i = 0; i < versions.Length; i++)
        {
            var through = ThroughOf(versions, i);
            shown.Add(versions[i].ToVersion(through, RankOf(through) - RankOf(versions[i].From) + 1));
        }

        // The rule a full build applies (TimelineBuilder): the ledger's timelines must answer "since" the same.
        UnbrokenHolding.Apply(shown);
        return shown.MoveToImmutable();
    }

    /// <summary>The versions of one (port, transport).</summary>
    public ImmutableArray<RecordVersion> Timeline(int port, TransportProtocol transport)
    {
        var segments = _ports[transport];
        var (low, high) = (0, segments.Length - 1);
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (segments[middle].First <= port) low = middle;
            else high = middle - 1;
        }

        return Versions(segments[low].Versions);
    }

    /// <summary>True when <paramref name="edition"/> sorts after every edition here, so that it can be appended.</summary>
    public bool FollowsNewest(EditionIdentity edition) => Newest is not { } newest || HistoryOrder.Compare(newest, edition) < 0;

    /// <summary>The ledger with one more registry edition, newer than all it holds.</summary>
    /// <exception cref="ArgumentException">The edition is local, already held, or not newer than the newest.</exception>
    public HistoryLedger Append(RegistryEdition edition)
    {
        if (edition.IsLocal) throw new ArgumentException($"{edition.Id} is a local service table: it has no place in the registry's history", nameof(edition));
        var identity = EditionIdentity.Of(edition);
        if (RankOf(identity) >= 0) throw new ArgumentException($"{edition.Id} is already in the history", nameof(edition));
        if (!FollowsNewest(identity)) throw new ArgumentException($"{edition.Id} sorts before {Newest!.Id}: cut the ledger back first", nameof(edition));

        var index = Editions.Length;
        var ports = _ports.ToImmutableDictionary(p => p.Key, p => LedgerPorts.Append(p.Value, p.Key, edition, identity, index));
        return new HistoryLedger(Editions.Add(identity), ports, AppendNameOnly(edition, identity));
    }

    /// <summary>The ledger of the first <paramref name="count"/> editions only.</summary>
    /// <exception cref="InvalidOperationException">The ledger was restored from storage (see <see cref="CanTruncate"/>).</exception>
    public HistoryLedger Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Editions.Length) return this;
        if (!CanTruncate) throw new InvalidOperationException("a ledger restored from storage cannot be cut back: build it again from the editions");
        var ports = _ports.ToImmutableDictionary(p => p.Key, p => LedgerPorts.Truncate(p.Value, count, RankOf));
        var nameOnly = NameOnlyByKey.ToBuilder();
        foreach (var (key, timeline) in NameOnlyByKey)
        {
            var keep = timeline.Versions.TakeWhile(v => RankOf(v.From) < count).ToImmutableArray();
            if (keep.IsEmpty) nameOnly.Remove(key);
            else if (keep.Length < timeline.Versions.Length) nameOnly[key] = timeline with { Versions = keep };
        }

        return new HistoryLedger(Editions[..count], ports, nameOnly.ToImmutable());
    }

    /// <summary>A ledger read back from storage: the editions in history order, each transport's listed segments, the name-only timelines.</summary>
    public static HistoryLedger Restore(IReadOnlyList<EditionIdentity> editions,
        IReadOnlyDictionary<TransportProtocol, IReadOnlyList<(PortSpan Ports, ImmutableArray<LedgerVersion> Versions)>> segments,
        IEnumerable<LedgerNameOnly> nameOnly)
    {
        var ports = TransportProtocols.All.ToImmutableDictionary(t => t,
            t => segments.TryGetValue(t, out var listed) ? LedgerPorts.Restore(listed) : LedgerPorts.Empty);
        var names = ImmutableSortedDictionary.CreateRange(NameOnlyOrder.Instance, nameOnly.Select(n =>
            new KeyValuePair<(TransportProtocol, string), LedgerNameOnly>((n.Transport, n.NameLower), n)));
        return new HistoryLedger([.. editions], ports, names);
    }

    /// <summary>
    /// How many things each edition changed: the versions it started (a change cut into several segments later still
    /// counts once). Zero for an edition that says what the one before said, whatever its date or formatting.
    /// </summary>
    public int[] ChangeCounts()
    {
        var started = new HashSet<LedgerVersion>(ReferenceEqualityComparer.Instance);
        var counts = new int[Editions.Length];
        var versions = _ports.Values.SelectMany(s => s).SelectMany(s => s.Versions).Concat(NameOnlyByKey.Values.SelectMany(n => n.Versions));
        foreach (var version in versions)
        {
            if (started.Add(version)) counts[RankOf(version.From)]++;
        }

        return counts;
    }

    private ImmutableSortedDictionary<(TransportProtocol, string), LedgerNameOnly> AppendNameOnly(RegistryEdition edition, EditionIdentity identity)
    {
        var listed = edition.Records.Where(r => r.Ports is null && r.ServiceName is not null)
            .GroupBy(r => (r.Transport, r.ServiceName!.ToLowerInvariant()))
            .ToDictionary(g => g.Key, g => (State: PortStates.Normalize(g.ToList()), First: g.First()));
        var result = NameOnlyByKey.ToBuilder();
        foreach (var (key, timeline) in NameOnlyByKey)
        {
            if (listed.ContainsKey(key)) continue;
            if (LedgerVersion.Next(timeline.Versions[^1], identity, PortStates.Empty, "") is { } removed)
            {
                result[key] = timeline with { Versions = timeline.Versions.Add(removed) };
            }
        }

        foreach (var (key, (state, first)) in listed)
        {
            var existing = NameOnlyByKey.GetValueOrDefault(key);
            var next = LedgerVersion.Next(existing?.Versions[^1], identity, state, PortStates.Key(state), first);
            if (next is null) continue;
            result[key] = existing is null ? new LedgerNameOnly(key.Item2, key.Item1, [next]) : existing with { Versions = existing.Versions.Add(next) };
        }

        return result.ToImmutable();
    }

    private sealed class NameOnlyOrder : IComparer<(TransportProtocol Transport, string Name)>
    {
        public static readonly NameOnlyOrder Instance = new();

        public int Compare((TransportProtocol Transport, string Name) x, (TransportProtocol Transport, string Name) y)
        {
            var byTransport = x.Transport.CompareTo(y.Transport);
            return byTransport != 0 ? byTransport : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
