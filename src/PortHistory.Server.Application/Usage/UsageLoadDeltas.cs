using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// A loaded series of daily levels ("on day d, N hosts") as usage rows. Hosts that start are added on their day; hosts
/// that stop are removed at the end of their last day, so that every day's hosts (its start plus its additions) are
/// exactly the level loaded. A day missing between two rows had none; the series ends after its last day.
/// </summary>
public static class UsageLoadDeltas
{
    public static IEnumerable<UsageDelta> Of(int port, Transport transport, int processId, bool reachable, IReadOnlyList<(DateOnly Day, int Hosts)> levels)
    {
        for (var i = 0; i < levels.Count; i++)
        {
            var (day, hosts) = levels[i];
            var before = i > 0 && levels[i - 1].Day == day.AddDays(-1) ? levels[i - 1].Hosts : 0;
            var after = i + 1 < levels.Count && levels[i + 1].Day == day.AddDays(1) ? levels[i + 1].Hosts : 0;
            var added = Math.Max(0, hosts - before);
            var removed = Math.Max(0, hosts - after);
            if (added == 0 && removed == 0) continue;
            var start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            yield return new UsageDelta(port, transport, processId, reachable, day, added, removed,
                added > 0 ? start : null, added > 0 ? start : null, removed > 0 ? start.AddDays(1).AddSeconds(-1) : null);
        }
    }

    /// <summary>The levels of a series per reach (loopback only, reachable) and the port's total, which adds up every process.</summary>
    public static IReadOnlyList<UsageDelta> Of(IEnumerable<((int Port, Transport Transport) Key, int ProcessId, IReadOnlyList<(DateOnly Day, int Hosts, int Reachable)> Days)> series)
    {
        var deltas = new List<UsageDelta>();
        foreach (var port in series.GroupBy(s => s.Key))
        {
            var total = new SortedDictionary<DateOnly, int>();
            foreach (var (key, processId, days) in port)
            {
                deltas.AddRange(Of(key.Port, key.Transport, processId, true, [.. days.Where(d => d.Reachable > 0).Select(d => (d.Day, d.Reachable))]));
                deltas.AddRange(Of(key.Port, key.Transport, processId, false, [.. days.Where(d => d.Hosts > d.Reachable).Select(d => (d.Day, d.Hosts - d.Reachable))]));
                foreach (var (day, hosts, _) in days) total[day] = total.GetValueOrDefault(day) + hosts;
            }

            deltas.AddRange(Of(port.Key.Port, port.Key.Transport, ListenerDelta.HostPresence, false, [.. total.Where(t => t.Value > 0).Select(t => (t.Key, t.Value))]));
        }

        return [.. deltas.OrderBy(d => d.Port).ThenBy(d => d.Transport).ThenBy(d => d.ProcessId).ThenBy(d => d.Reachable).ThenBy(d => d.Day)];
    }
}
