using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// The versioned history of every (port, transport) across a set of registry editions, merged in effective-date
/// order whatever order they were given in. Local editions (/etc/services, nmap-services) are kept alongside but
/// stay out of the timelines: they describe a host, not the registry.
/// </summary>
public sealed class RegistryHistory
{
    private readonly Dictionary<TransportProtocol, TransportHistory> _transports;
    private readonly Dictionary<string, List<ServiceTenure>> _holdingsByName;
    private readonly ImmutableArray<ServiceRename> _renames;

    private RegistryHistory(
        ImmutableArray<RegistryEdition> editions,
        ImmutableArray<RegistryEdition> localEditions,
        Dictionary<TransportProtocol, TransportHistory> transports,
        Dictionary<string, List<ServiceTenure>> holdingsByName,
        ImmutableArray<ServiceRename> renames)
    {
        Editions = editions;
        LocalEditions = localEditions;
        EditionRefs = [.. editions.Select(EditionIdentity.Of)];
        _transports = transports;
        _holdingsByName = holdingsByName;
        _renames = renames;
    }

    public static RegistryHistory Empty { get; } = Build([]);

    /// <summary>Registry editions in history order: effective date, then format, then id.</summary>
    public ImmutableArray<RegistryEdition> Editions { get; }

    public ImmutableArray<EditionIdentity> EditionRefs { get; }

    public ImmutableArray<RegistryEdition> LocalEditions { get; }

    /// <summary>
    /// Builds the history. The same file given twice counts once (by SHA-256); two different files claiming the
    /// same edition id are an error.
    /// </summary>
    public static RegistryHistory Build(IEnumerable<RegistryEdition> editions)
    {
        var distinct = new Dictionary<string, RegistryEdition>(StringComparer.Ordinal);
        foreach (var edition in editions.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            if (distinct.TryGetValue(edition.Id, out var existing))
            {
                if (existing.Sha256 != edition.Sha256)
                {
                    throw new ArgumentException($"edition id \"{edition.Id}\" is claimed by two different files: {existing.Source} and {edition.Source}");
                }

                continue;
            }

            if (distinct.Values.Any(e => e.Sha256 == edition.Sha256)) continue;
            distinct[edition.Id] = edition;
        }

        var ordered = distinct.Values.OrderBy(e => e, EditionOrder.Instance).ToList();
        var registry = ordered.Where(e => !e.IsLocal).ToImmutableArray();
        var local = ordered.Where(e => e.IsLocal).ToImmutableArray();
        var refs = registry.Select(EditionIdentity.Of).ToArray();

        var transports = new Dictionary<TransportProtocol, TransportHistory>();
        foreach (var transport in TransportProtocols.All) transports[transport] = TransportHistory.Build(transport, registry, refs);

        var holdings = ServiceNameIndex.Build(transports, registry, refs);
        var renames = RenameChains.Collect(transports);
        return new RegistryHistory(registry, local, transports, holdings, renames)
        {
            NameOnlyTimelines = NameOnlyRegistrations.Timelines(registry, refs),
        };
    }

    public RegistryEdition? FindEdition(string id) =>
        Editions.Concat(LocalEditions).FirstOrDefault(e => string.Equals(e.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>Index of the edition in effect on a date (the newest with an effective date on or before it), or -1.</summary>
    public int EditionIndexAsOf(DateOnly date) => EditionAsOf.EditionIndex(Editions, e => e.EffectiveDate, date);

    public AssignmentTimeline Timeline(int port, TransportProtocol transport)
    {
        CheckPort(port);
        if (!_transports.TryGetValue(transport, out var history)) throw new ArgumentOutOfRangeException(nameof(transport), transport, "a transport must be tcp, udp, sctp or dccp");
        return new AssignmentTimeline(port, transport, history.VersionsOf(port));
    }

    /// <summary>The timelines of a port on every transport that ever listed it.</summary>
    public IReadOnlyList<AssignmentTimeline> Timelines(int port) =>
        [.. TransportProtocols.All.Select(t => Timeline(port, t)).Where(t => !t.IsEmpty)];

    /// <summary>What held (port, transport) on a date: null if no edition was in effect yet.</summary>
    public PortSnapshot? AsOf(int port, TransportProtocol transport, DateOnly date)
    {
        var index = EditionIndexAsOf(date);
        return index < 0 ? null : InEdition(port, transport, index);
    }

    /// <summary>
    /// What every local service table says about a port (optionally one transport), table by table in history order.
    /// Local tables have no place in the timelines, so no date selects among them: each entry carries its table's date.
    /// Within a table, entries come in transport order (tcp, udp, …), as the file listed them otherwise.
    /// </summary>
    public IReadOnlyList<LocalEntry> LocalEntries(int port, TransportProtocol? transport = null)
    {
        CheckPort(port);
        return [.. LocalEditions.SelectMany(e => LocalEntry.Of(e, port, transport).OrderBy(entry => entry.Transport))];
    }

    /// <summary>What an edition (by index in <see cref="Editions"/>) listed for (port, transport).</summary>
    public PortSnapshot InEdition(int port, TransportProtocol transport, int editionIndex)
    {
        CheckPort(port);
        var history = _transports[transport];
        var segment = history.Segments.SegmentOf(port);
        return new PortSnapshot(port, transport, EditionRefs[editionIndex], [.. history.Segments.States[segment][editionIndex]],
            history.VersionAt(segment, editionIndex));
    }

    /// <summary>Every (port range, transport, period) a name held, as the service or as an alias; case-insensitive.</summary>
    public IReadOnlyList<ServiceTenure> FindService(string name) =>
        _holdingsByName.TryGetValue(name.Trim().ToLowerInvariant(), out var holdings) ? holdings : [];

    /// <summary>
    /// The rename chain a name belongs to: every link (old name → new name on the same port and transport) reachable
    /// from it in either direction, oldest first.
    /// </summary>
    public IReadOnlyList<ServiceRename> RenameChain(string name) => RenameChains.Follow(_renames, name);

    /// <summary>
    /// Every (port, transport) in a range and what held it in the edition in effect on <paramref name="asOf"/>
    /// (the records of the version in effect, as first listed)
    /// (or the newest edition), in port order; optionally only one status or one transport.
    /// </summary>
    public IEnumerable<AssignmentInEffect> ListPorts(PortSpan range, DateOnly? asOf = null, RecordStatus? status = null, TransportProtocol? transport = null)
    {
        var index = asOf is { } date ? EditionIndexAsOf(date) : Editions.Length - 1;
        if (index < 0) yield break;
        var transports = transport is { } only and not TransportProtocol.Unspecified ? [only] : TransportProtocols.All;
        for (var port = range.First; port <= range.Last; port++)
        {
            foreach (var t in transports)
            {
                var history = _transports[t];
                var segment = history.Segments.SegmentOf(port);
                if (history.Segments.States[segment][index].Length == 0) continue;
                // The version's records, as listed in its first edition: what the server's index answers too.
                var version = history.VersionAt(segment, index)!;
                if (status is { } wanted && version.Records[0].Status != wanted) continue;
                yield return new AssignmentInEffect(port, t, EditionRefs[index], version.Records, version.From);
            }
        }
    }

    /// <summary>
    /// The differences between two editions, per port range and transport, with the changed fields classified as in
    /// timelines (de-assigned, renamed, …). Works for any two editions, local ones included.
    /// </summary>
    public static EditionDiff Diff(RegistryEdition from, RegistryEdition to, PortSpan? ports = null)
    {
        var range = ports ?? PortSpan.All;
        var editions = new[] { from, to };
        var diff = new DiffBuilder();
        foreach (var transport in TransportProtocols.All)
        {
            var segments = PortSegments.Build(transport, editions);
            foreach (var s in segments.Overlapping(range))
            {
                var segment = segments.RangeOf(s);
                var clipped = new PortSpan(Math.Max(segment.First, range.First), Math.Min(segment.Last, range.Last));
                diff.AddSegment(transport, clipped, segments.States[s][0], segments.States[s][1]);
            }
        }

        if (ports is null)
        {
            var before = NameOnlyRegistrations.States(from);
            var after = NameOnlyRegistrations.States(to);
            foreach (var key in before.Keys.Union(after.Keys).OrderBy(k => k.Item2).ThenBy(k => k.Item1, StringComparer.Ordinal))
            {
                diff.AddNameOnly(key.Item2, before.GetValueOrDefault(key) ?? PortStates.Empty, after.GetValueOrDefault(key) ?? PortStates.Empty);
            }
        }

        return new EditionDiff(EditionIdentity.Of(from), EditionIdentity.Of(to), diff.Build());
    }

    /// <summary>The semantic key of a state: equal keys mean the registry said the same thing.</summary>
    public static string StateKey(IReadOnlyList<EditionRecord> state) => PortStates.Key(state);

    /// <summary>The segments of one transport's port space, in port order, each with the versions its ports share.</summary>
    public IEnumerable<TimelineSegment> Segments(TransportProtocol transport)
    {
        var history = _transports[transport];
        for (var s = 0; s < history.Segments.Count; s++)
        {
            yield return new TimelineSegment(transport, history.Segments.RangeOf(s), history.Versions[s]);
        }
    }

    /// <summary>Versions of the registrations without a port, per (name, transport).</summary>
    public ImmutableArray<NameOnlyTimeline> NameOnlyTimelines { get; private init; } = [];

    /// <summary>Every holding of every name (the index behind <see cref="FindService"/>).</summary>
    public IEnumerable<ServiceTenure> AllHoldings => _holdingsByName.Values.SelectMany(h => h);

    /// <summary>Every rename link, oldest first.</summary>
    public ImmutableArray<ServiceRename> Renames => _renames;

    private static void CheckPort(int port)
    {
        if (port is < 0 or > PortSpan.MaxPort) throw new ArgumentOutOfRangeException(nameof(port), port, "port must be 0-65535");
    }
}
