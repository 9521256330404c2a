using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Tests.Support;

/// <summary>
/// Plays the host grains for tests of a port: which hosts run which processes on one (port, transport), and the journal
/// entries their grains would pass on when a host starts or stops a process, goes stale or comes back. Numbers the
/// entries in one writer's sequence, and is the model a port's counts are checked against.
/// </summary>
internal sealed class ListenerScript(Transport transport = Transport.Udp)
{
    private readonly Dictionary<int, HashSet<string>> _running = [];
    private readonly HashSet<int> _stale = [];

    public long Seq { get; private set; }

    /// <summary>Hosts running the process now: online ones, and all (online and stale).</summary>
    public (int Online, int All) Hosts(string process)
    {
        var all = _running.Where(h => h.Value.Contains(process)).Select(h => h.Key).ToList();
        return (all.Count(h => !_stale.Contains(h)), all.Count);
    }

    public IReadOnlyCollection<string> Processes => [.. _running.Values.SelectMany(p => p).Distinct()];

    public ObservationEntry[] Start(int host, string process, DateTime at)
    {
        var running = _running.TryGetValue(host, out var set) ? set : _running[host] = [];
        if (running.Contains(process)) return [];
        var entries = new List<ObservationEntry>();
        // A stale host heard again comes back first.
        if (_stale.Remove(host)) entries.AddRange(All(host, ListenerChangeKind.CameBack, at));
        if (running.Count == 0) entries.Add(Presence(ListenerChangeKind.Added, at));
        running.Add(process);
        entries.Add(Listener(process, ListenerChangeKind.Added, at));
        return [.. entries];
    }

    public ObservationEntry[] Stop(int host, string process, DateTime at)
    {
        if (!_running.TryGetValue(host, out var running) || !running.Contains(process)) return [];
        var kind = _stale.Contains(host) ? ListenerChangeKind.RemovedWhileStale : ListenerChangeKind.Removed;
        running.Remove(process);
        var entries = new List<ObservationEntry> { Listener(process, kind, at) };
        if (running.Count == 0) entries.Add(Presence(kind, at));
        return [.. entries];
    }

    public ObservationEntry[] GoStale(int host, DateTime at) => _stale.Add(host) ? All(host, ListenerChangeKind.WentStale, at) : [];

    public ObservationEntry[] ComeBack(int host, DateTime at) => _stale.Remove(host) ? All(host, ListenerChangeKind.CameBack, at) : [];

    /// <summary>The host is retired: all it ran goes, as a stale host's or an online host's sockets.</summary>
    public ObservationEntry[] Retire(int host, DateTime at)
    {
        if (!_running.TryGetValue(host, out var running)) return [];
        var entries = running.ToList().SelectMany(p => Stop(host, p, at)).ToArray();
        _stale.Remove(host);
        return entries;
    }

    public static string Executable(string process) => $"/usr/sbin/{process}";

    private ObservationEntry[] All(int host, ListenerChangeKind kind, DateTime at) =>
        _running.TryGetValue(host, out var running) && running.Count > 0
            ? [Presence(kind, at), .. running.Order(StringComparer.Ordinal).Select(p => Listener(p, kind, at))]
            : [];

    private ObservationEntry Listener(string process, ListenerChangeKind kind, DateTime at) =>
        ObservationEntry.Listener(++Seq, transport, kind, reachable: true, hosts: 1, at, process, Executable(process));

    private ObservationEntry Presence(ListenerChangeKind kind, DateTime at) =>
        ObservationEntry.Listener(++Seq, transport, kind, reachable: true, hosts: 1, at, presence: true);
}
