using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// The service-name holdings and rename links of a <see cref="HistoryLedger"/>, by the rules <see cref="RegistryHistory"/>
/// applies to a full build (FindService, RenameChain): the tests check that both give the same on the real editions.
/// </summary>
public static class LedgerIndexes
{
    /// <summary>Every holding of every name, by lower-case name, each list in the order FindService answers.</summary>
    public static Dictionary<string, List<ServiceTenure>> Holdings(HistoryLedger ledger)
    {
        var byName = new Dictionary<string, List<ServiceTenure>>(StringComparer.Ordinal);
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in ledger.Segments(transport))
            {
                if (segment.Versions.IsEmpty) continue;
                var range = segment.Ports;
                // Holdings of this segment still open after the previous version: a name that stays across a change
                // of contact or description is one holding, not two.
                var open = new Dictionary<(string, RecordStatus, bool), ServiceTenure>();
                // Holdings need where each version runs, not since when it is held: no timeline is shown here.
                for (var v = 0; v < segment.Versions.Length; v++)
                {
                    var version = segment.Versions[v];
                    var through = ledger.ThroughOf(segment.Versions, v);
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
                        seen[key] = open.TryGetValue(key, out var running) && ledger.RankOf(running.Through) + 1 == ledger.RankOf(version.From)
                            ? running with { Through = through }
                            : new ServiceTenure(name, range, transport, status, asAlias, version.From, through);
                    }
                }

                foreach (var holding in open.Values) Emit(holding);
            }
        }

        // Segments of one range record hold the same periods: join contiguous ranges.
        ServiceNameIndex.JoinContiguousRanges(byName);

        // Name-only registrations: consecutive editions listing the name form one holding, named as its first edition lists it.
        var runs = new List<(int Closed, int Order, ServiceTenure Holding)>();
        foreach (var timeline in ledger.NameOnly)
        {
            var versions = ledger.Versions(timeline.Versions);
            for (var v = 0; v < versions.Length; v++)
            {
                if (versions[v].Records.IsEmpty) continue;
                var start = v;
                while (v + 1 < versions.Length && !versions[v + 1].Records.IsEmpty) v++;
                var record = timeline.Versions[start].FirstListed ?? versions[start].Records[0];
                var through = versions[v].Through;
                runs.Add((ledger.RankOf(through), ledger.RankOf(versions[start].From),
                    new ServiceTenure(record.ServiceName!, null, timeline.Transport, record.Status, false, versions[start].From, through)));
            }
        }

        // In the order a pass over the editions closes them: by the edition they end in, then the one they start in.
        foreach (var (_, _, holding) in runs.OrderBy(r => r.Closed).ThenBy(r => r.Order))
        {
            var key = holding.Name.ToLowerInvariant();
            if (!byName.TryGetValue(key, out var list)) byName[key] = list = [];
            list.Add(holding);
        }

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
    }

    /// <summary>Every rename link (old name → new name on a port range and transport), oldest first.</summary>
    public static ImmutableArray<ServiceRename> Renames(HistoryLedger ledger)
    {
        var links = new Dictionary<(string, string, TransportProtocol, PortSpan), ServiceRename>();
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in ledger.Segments(transport))
            {
                foreach (var version in segment.Versions)
                {
                    foreach (var change in version.Changes.Where(c => c.Kind == RecordChangeKind.Renamed))
                    {
                        Add(new ServiceRename(change.Before!, change.After!, segment.Ports, transport, version.From));
                    }

                    // A replacement name can arrive together with its alias, in one edition, with no rename step between.
                    foreach (var record in version.Records.Where(r => r.Replaces is not null && r.ServiceName is not null))
                    {
                        Add(new ServiceRename(record.Replaces!, record.ServiceName!, segment.Ports, transport, version.From));
                    }
                }
            }
        }

        return [.. links.Values.OrderBy(l => l.Edition.Date).ThenBy(l => l.Ports.First).ThenBy(l => l.Transport)];

        void Add(ServiceRename link)
        {
            var key = (link.From.ToLowerInvariant(), link.To.ToLowerInvariant(), link.Transport, link.Ports);
            if (!links.TryGetValue(key, out var existing) || existing.Edition.Date > link.Edition.Date) links[key] = link;
        }
    }
}
