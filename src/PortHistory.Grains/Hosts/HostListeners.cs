using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>
/// What port grains count for a host: per (port, transport) the host itself (present when anything listens there) and
/// each process listening there, reachable when any of its sockets binds more than loopback. A host's sockets become
/// listener changes here, one per listener, for <see cref="IHostCommits"/> to add up.
/// </summary>
public static class HostListeners
{
    private readonly record struct Listener(int Port, Transport Transport, int ProcessId, bool Reachable);

    /// <summary>The changes from <paramref name="before"/> to <paramref name="after"/> of a host that is online.</summary>
    public static void Diff(HostSocketEntry[] before, HostSocketEntry[] after, List<ListenerDelta> into)
    {
        var old = Of(before);
        var now = Of(after);
        int i = 0, j = 0;
        while (i < old.Count || j < now.Count)
        {
            var c = i == old.Count ? 1 : j == now.Count ? -1 : Compare(old[i], now[j]);
            if (c < 0) into.Add(Delta(old[i++], ListenerChangeKind.Removed));
            else if (c > 0) into.Add(Delta(now[j++], ListenerChangeKind.Added));
            else
            {
                // The same listener, now reachable or no longer: counted again under its new reach.
                if (old[i].Reachable != now[j].Reachable)
                {
                    into.Add(Delta(old[i], ListenerChangeKind.Removed));
                    into.Add(Delta(now[j], ListenerChangeKind.Added));
                }

                i++;
                j++;
            }
        }
    }

    /// <summary>The same change for every listener of the host (it went stale, came back, or was retired).</summary>
    public static void All(HostSocketEntry[] sockets, ListenerChangeKind kind, List<ListenerDelta> into)
    {
        foreach (var listener in Of(sockets)) into.Add(Delta(listener, kind));
    }

    private static ListenerDelta Delta(Listener listener, ListenerChangeKind kind) =>
        new(listener.Port, listener.Transport, listener.ProcessId, kind, listener.Reachable, 1);

    private static int Compare(Listener a, Listener b)
    {
        var c = a.Port.CompareTo(b.Port);
        if (c != 0) return c;
        c = ((int)a.Transport).CompareTo((int)b.Transport);
        return c != 0 ? c : a.ProcessId.CompareTo(b.ProcessId);
    }

    /// <summary>The listeners of a sorted socket set, sorted: per (port, transport) the host's presence first, then its processes.</summary>
    private static List<Listener> Of(HostSocketEntry[] sockets)
    {
        var listeners = new List<Listener>();
        var i = 0;
        while (i < sockets.Length)
        {
            var (port, transport) = (sockets[i].Port, sockets[i].Transport);
            var presenceAt = listeners.Count;
            listeners.Add(new Listener(port, transport, ListenerDelta.HostPresence, false));
            var anyReachable = false;
            while (i < sockets.Length && sockets[i].Port == port && sockets[i].Transport == transport)
            {
                var process = sockets[i].ProcessId;
                var reachable = false;
                while (i < sockets.Length && sockets[i].Port == port && sockets[i].Transport == transport && sockets[i].ProcessId == process)
                {
                    reachable |= sockets[i].Reachable;
                    i++;
                }

                listeners.Add(new Listener(port, transport, process, reachable));
                anyReachable |= reachable;
            }

            listeners[presenceAt] = listeners[presenceAt] with { Reachable = anyReachable };
        }

        return listeners;
    }
}
