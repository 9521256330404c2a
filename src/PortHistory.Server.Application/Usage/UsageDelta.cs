using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// What a flush adds to one usage row: on <see cref="Day"/>, <see cref="Added"/> hosts started and
/// <see cref="Removed"/> hosts stopped listening with the process on the port, transport and reach. A host that went
/// stale stops (a switched-off host listens on nothing); one that comes back starts again.
/// </summary>
/// <param name="FirstAddedAt">The earliest start among them, if any (a lifetime's first seen).</param>
/// <param name="LastAddedAt">The latest start, if any.</param>
/// <param name="LastRemovedAt">The latest stop, if any.</param>
public sealed record UsageDelta(int Port, Transport Transport, int ProcessId, bool Reachable, DateOnly Day, int Added, int Removed,
    DateTime? FirstAddedAt, DateTime? LastAddedAt, DateTime? LastRemovedAt)
{
    /// <summary>The usage rows a set of host commits changes, one per (port, transport, process, reach, day), in key order.</summary>
    public static IReadOnlyList<UsageDelta> Of(IEnumerable<HostCommit> commits) =>
        [.. commits
            .SelectMany(c => c.Changes.Select(change => (Change: change, At: c.ChangedAt, Sign: Sign(change.Kind))))
            .Where(c => c.Sign != 0)
            .GroupBy(c => (c.Change.Port, c.Change.Transport, c.Change.ProcessId, c.Change.Reachable, Day: DateOnly.FromDateTime(c.At)))
            .Select(g =>
            {
                var adds = g.Where(c => c.Sign > 0).ToList();
                var removes = g.Where(c => c.Sign < 0).ToList();
                return new UsageDelta(g.Key.Port, g.Key.Transport, g.Key.ProcessId, g.Key.Reachable, g.Key.Day,
                    adds.Sum(c => c.Change.Hosts), removes.Sum(c => c.Change.Hosts),
                    adds.Count > 0 ? adds.Min(c => c.At) : null, adds.Count > 0 ? adds.Max(c => c.At) : null, removes.Count > 0 ? removes.Max(c => c.At) : null);
            })
            .Where(d => d.Added != 0 || d.Removed != 0)
            .OrderBy(d => d.Port).ThenBy(d => d.Transport).ThenBy(d => d.ProcessId).ThenBy(d => d.Reachable).ThenBy(d => d.Day)];

    /// <summary>+1: the host listens now; -1: it no longer does; 0: no change to the hosts listening (a stale host's listener removed).</summary>
    public static int Sign(ListenerChangeKind kind) => kind switch
    {
        ListenerChangeKind.Added or ListenerChangeKind.CameBack => 1,
        ListenerChangeKind.Removed or ListenerChangeKind.WentStale => -1,
        _ => 0,
    };
}
