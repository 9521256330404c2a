using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// Every (port range, transport, period) each service name or alias held, by lower-case name: the index behind
/// <see cref="RegistryHistory.FindService"/>. A name that stays across versions (a changed contact, say) is one holding.
/// </summary>
internal static class ServiceNameIndex
{
    public static Dictionary<string, List<ServiceTenure>> Build(
        Dictionary<TransportProtocol, TransportHistory> transports, ImmutableArray<RegistryEdition> editions, EditionIdentity[] refs)
    {
        var byName = new Dictionary<string, List<ServiceTenure>>(StringComparer.Ordinal);
        var indexOf = refs.Select((r, i) => (r, i)).ToDictionary(x => x.r, x => x.i);
        foreach (var (transport, history) in transports)
        {
            for (var s = 0; s < history.Segments.Count; s++)
            {
                var range = history.Segments.RangeOf(s);
                // Holdings of this segment still open after the previous version: a name that stays across a
                // change of contact or description is one holding, not two.
                var open = new Dictionary<(string, RecordStatus, bool), ServiceTenure>();
                foreach (var version in history.Versions[s])
                {
                    var seen = new Dictionary<(string, RecordStatus, bool), ServiceTenure>();
                    foreach (var record in version.Records)
                    {
                        if (record.ServiceName is { } name) Hold(name, record.Status, false);
                        foreach (var alias in record.Aliases) Hold(alias, record.Status, true);
                    }

                    foreach (var (key, holding) in open)
                    {
                        if (!seen.ContainsKey(key)) Emit(holding);
                    }

                    open = seen;

                    void Hold(string name, RecordStatus status, bool asAlias)
                    {
                        var key = (name.ToLowerInvariant(), status, asAlias);
                        if (seen.ContainsKey(key)) return;
                        seen[key] = open.TryGetValue(key, out var running) && indexOf[running.Through] + 1 == indexOf[version.From]
                            ? running with { Through = version.Through }
                            : new ServiceTenure(name, range, transport, status, asAlias, version.From, version.Through);
                    }
                }

                foreach (var holding in open.Values) Emit(holding);
            }
        }

        // Segments of one range record hold the same periods: join contiguous ranges.
        JoinContiguousRanges(byName);

        // Name-only registrations (no port): consecutive editions listing the name form one holding.
        var runs = new Dictionary<(string, TransportProtocol), (EditionRecord Record, int From, int Through)>();
        for (var e = 0; e < editions.Length; e++)
        {
            var listed = editions[e].Records.Where(r => r.Ports is null && r.ServiceName is not null)
                .GroupBy(r => (r.ServiceName!.ToLowerInvariant(), r.Transport)).ToDictionary(g => g.Key, g => g.First());
            foreach (var key in runs.Keys.Where(k => !listed.ContainsKey(k)).ToList())
            {
                Close(key);
            }

            foreach (var (key, record) in listed)
            {
                runs[key] = runs.TryGetValue(key, out var run) ? run with { Through = e } : (record, e, e);
            }
        }

        foreach (var key in runs.Keys.ToList()) Close(key);

        foreach (var list in byName.Values)
        {
            list.Sort((a, b) => (a.From.Date, a.Ports?.First ?? -1, a.Transport).CompareTo((b.From.Date, b.Ports?.First ?? -1, b.Transport)));
        }

        return byName;

        void Emit(ServiceTenure holding)
        {
            var key = holding.Name.ToLowerInvariant();
            if (!byName.TryGetValue(key, out var list)) byName[key] = list = [];
            list.Add(holding);
        }

        void Close((string Name, TransportProtocol Transport) key)
        {
            var (record, from, through) = runs[key];
            runs.Remove(key);
            if (!byName.TryGetValue(key.Name, out var list)) byName[key.Name] = list = [];
            list.Add(new ServiceTenure(record.ServiceName!, null, key.Transport, record.Status, false, refs[from], refs[through]));
        }
    }

    /// <summary>Joins holdings of one name that differ only in adjacent port ranges (the segments of one range record).</summary>
    public static void JoinContiguousRanges(Dictionary<string, List<ServiceTenure>> byName)
    {
        foreach (var (key, list) in byName)
        {
            // Most names are held once: nothing to join. Ties keep the list's order (editions can share a date).
            if (list.Count == 1) continue;
            var ordered = list.Select((holding, index) => (Holding: holding, Index: index)).ToArray();
            Array.Sort(ordered, static (x, y) =>
            {
                var (a, b) = (x.Holding, y.Holding);
                return (a.Transport, a.From.Date, a.Through.Date, a.Status, a.AsAlias, a.Ports!.Value.First, x.Index)
                    .CompareTo((b.Transport, b.From.Date, b.Through.Date, b.Status, b.AsAlias, b.Ports!.Value.First, y.Index));
            });
            var merged = new List<ServiceTenure>(list.Count);
            foreach (var (holding, _) in ordered)
            {
                if (merged.Count > 0 && merged[^1] is { } last && last.Transport == holding.Transport && last.From == holding.From &&
                    last.Through == holding.Through && last.Status == holding.Status && last.AsAlias == holding.AsAlias &&
                    last.Ports!.Value.Last + 1 == holding.Ports!.Value.First)
                {
                    merged[^1] = last with { Ports = new PortSpan(last.Ports.Value.First, holding.Ports.Value.Last) };
                    continue;
                }

                merged.Add(holding);
            }

            list.Clear();
            list.AddRange(merged);
        }
    }
}
