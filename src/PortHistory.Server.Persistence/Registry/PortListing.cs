using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>A stretch of ports of one transport that share one version in the listed edition.</summary>
public readonly record struct ListedSegment(Transport Transport, int First, int Last, TimelineVersion Version);

/// <summary>How a listing is ordered: port by port, each port's transports in order, as the offline history lists them.</summary>
public static class PortListing
{
    /// <summary>
    /// The assignments of the ports in <paramref name="window"/>, from segments that arrive per transport in port
    /// order (they may reach beyond the window).
    /// </summary>
    public static List<PortAssignment> Merge(PortSpan window, IEnumerable<ListedSegment> segments)
    {
        var byTransport = segments.GroupBy(s => s.Transport).OrderBy(g => g.Key).Select(g => g.OrderBy(s => s.First).ToList()).ToList();
        var cursors = new int[byTransport.Count];
        var assignments = new List<PortAssignment>();
        for (var port = window.First; port <= window.Last; port++)
        {
            for (var t = 0; t < byTransport.Count; t++)
            {
                var list = byTransport[t];
                while (cursors[t] < list.Count && list[cursors[t]].Last < port) cursors[t]++;
                if (cursors[t] >= list.Count || list[cursors[t]].First > port) continue;
                var segment = list[cursors[t]];
                var assignment = new PortAssignment { Port = (uint)port, Transport = segment.Transport, Since = segment.Version.From };
                assignment.Records.AddRange(segment.Version.Records);
                assignments.Add(assignment);
            }
        }

        return assignments;
    }
}
