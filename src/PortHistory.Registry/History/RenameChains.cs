using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

public static class RenameChains
{
    /// <summary>Every link reachable from a name through old → new names, in either direction, oldest first.</summary>
    public static IReadOnlyList<ServiceRename> Follow(IEnumerable<ServiceRename> links, string name)
    {
        var all = links.ToList();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { name.Trim() };
        var chain = new List<ServiceRename>();
        var grew = true;
        while (grew)
        {
            grew = false;
            foreach (var link in all)
            {
                if (chain.Contains(link) || !(names.Contains(link.From) || names.Contains(link.To))) continue;
                chain.Add(link);
                names.Add(link.From);
                names.Add(link.To);
                grew = true;
            }
        }

        return [.. chain.OrderBy(l => l.Edition.Date).ThenBy(l => l.Ports.First).ThenBy(l => l.Transport)];
    }

    /// <summary>
    /// Every rename in the timelines (old name → new name on the same port and transport), each at the first edition
    /// that shows it, oldest first.
    /// </summary>
    internal static ImmutableArray<ServiceRename> Collect(Dictionary<TransportProtocol, TransportHistory> transports)
    {
        var links = new Dictionary<(string, string, TransportProtocol, PortSpan), ServiceRename>();
        foreach (var (transport, history) in transports)
        {
            for (var s = 0; s < history.Segments.Count; s++)
            {
                foreach (var version in history.Versions[s])
                {
                    foreach (var change in version.Changes.Where(c => c.Kind == RecordChangeKind.Renamed))
                    {
                        Add(new ServiceRename(change.Before!, change.After!, history.Segments.RangeOf(s), transport, version.From));
                    }

                    // A replacement name can arrive together with its alias, in one edition, with no rename step between.
                    foreach (var record in version.Records.Where(r => r.Replaces is not null && r.ServiceName is not null))
                    {
                        Add(new ServiceRename(record.Replaces!, record.ServiceName!, history.Segments.RangeOf(s), transport, version.From));
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
