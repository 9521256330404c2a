using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// Listeners hosts already held when the usage history began (a database upgraded while hosts were reporting): nothing
/// in the history added them, so each is added once, on the day it began. Counted are the hosts online since before
/// then, with the sockets they have held since before then: for those it is sure the history never saw them start.
/// A host that went stale or came back since is left out (its current state does not say whether it was online then).
/// </summary>
public static class UsagePrehistory
{
    /// <summary>The usage rows that add the listeners of <paramref name="sets"/> held since before <paramref name="began"/>, in key order.</summary>
    public static IReadOnlyList<UsageDelta> Deltas(DateTime began, IEnumerable<HostSocketEntry[]> sets)
    {
        var hosts = new Dictionary<(int Port, Contracts.V1.Transport Transport, int ProcessId, bool Reachable), int>();
        var listeners = new List<ListenerDelta>();
        foreach (var set in sets)
        {
            var held = set.Where(s => s.Since < began).ToArray();
            Array.Sort(held);
            listeners.Clear();
            HostListeners.All(held, ListenerChangeKind.Added, listeners);
            foreach (var l in listeners)
            {
                var key = (l.Port, l.Transport, l.ProcessId, l.Reachable);
                hosts[key] = hosts.GetValueOrDefault(key) + l.Hosts;
            }
        }

        var day = DateOnly.FromDateTime(began);
        return [.. hosts.OrderBy(h => h.Key).Select(h => new UsageDelta(h.Key.Port, h.Key.Transport, h.Key.ProcessId, h.Key.Reachable, day, h.Value, 0, began, began, null))];
    }
}
