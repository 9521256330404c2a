using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Observations;

/// <summary>What a port grain knows of its port's observed usage, and how far into the journal it has applied.</summary>
[GenerateSerializer, Alias("porthistory.ObservedUsage")]
public sealed class ObservedUsage
{
    /// <summary>Per journal writer, the last sequence number applied to these aggregates.</summary>
    [Id(0)]
    public Dictionary<int, long> Watermarks { get; set; } = [];

    [Id(1)]
    public List<TransportUsage> Transports { get; set; } = [];

    /// <summary>Journal entries that could not be applied (out-of-range values that bypassed validation): skipped, counted.</summary>
    [Id(2)]
    public long Quarantined { get; set; }

    /// <summary>The first few reasons for <see cref="Quarantined"/>, for admins.</summary>
    [Id(3)]
    public List<string> QuarantineReasons { get; set; } = [];

    /// <summary>
    /// Per observed transport, the verdict the watch feed last raised (or started from). Null in states written
    /// before the feed existed: their verdicts are taken as they stand, without events.
    /// </summary>
    [Id(4)]
    public Dictionary<Transport, RaisedVerdict>? RaisedVerdicts { get; set; }

    /// <summary>Per transport, the service assigned when the watch feed last looked ("" for none); null until the port is first judged.</summary>
    [Id(5)]
    public Dictionary<Transport, string>? Assignments { get; set; }
}

/// <summary>A verdict as the watch feed last raised it, and how many changes it has raised for the transport.</summary>
[GenerateSerializer, Alias("porthistory.RaisedVerdict")]
public sealed class RaisedVerdict
{
    [Id(0)]
    public VerdictKind Kind { get; set; }

    [Id(1)]
    public long Revision { get; set; }
}

[GenerateSerializer, Alias("porthistory.TransportUsage")]
public sealed class TransportUsage
{
    [Id(0)]
    public Transport Transport { get; set; }

    /// <summary>Distinct hosts of states written before <see cref="Hosts"/> existed; moved there on activation.</summary>
    [Id(1)]
    public HashSet<ulong>? LegacyHosts { get; set; }

    [Id(2)]
    public long Sightings { get; set; }

    [Id(3)]
    public DateTime FirstSeen { get; set; }

    [Id(4)]
    public DateTime LastSeen { get; set; }

    /// <summary>By process name, executable, program and unit: the processes with the most weight, at most a fixed number.</summary>
    [Id(5)]
    public Dictionary<string, ProcessUsage> Processes { get; set; } = [];

    /// <summary>Distinct hosts, by 64-bit hashes of their host_ref.</summary>
    [Id(6)]
    public HostSet Hosts { get; set; } = new();

    /// <summary>Everything of the processes that were pushed out of <see cref="Processes"/>, added up.</summary>
    [Id(7)]
    public ProcessUsage? Other { get; set; }

    /// <summary>How many processes <see cref="Other"/> adds up.</summary>
    [Id(8)]
    public long OtherProcesses { get; set; }

    /// <summary>Hosts with anything listening on the port and transport now (from the hosts' listener changes).</summary>
    [Id(9)]
    public ListenerCounts Listeners { get; set; } = new();
}

[GenerateSerializer, Alias("porthistory.ProcessUsage")]
public sealed class ProcessUsage
{
    /// <summary>Host ids kept for admins, per process (examples to start an investigation from, not a list of all).</summary>
    public const int HostRefsKept = 16;

    [Id(0)]
    public string Name { get; set; } = "";

    [Id(1)]
    public string Executable { get; set; } = "";

    /// <summary>Distinct hosts of states written before <see cref="Hosts"/> existed; moved there on activation.</summary>
    [Id(2)]
    public HashSet<ulong>? LegacyHosts { get; set; }

    [Id(3)]
    public List<string> HostRefs { get; set; } = [];

    [Id(4)]
    public long Sightings { get; set; }

    [Id(5)]
    public DateTime FirstSeen { get; set; }

    [Id(6)]
    public DateTime LastSeen { get; set; }

    [Id(7)]
    public long Wildcard { get; set; }

    [Id(8)]
    public long Loopback { get; set; }

    [Id(9)]
    public long Specific { get; set; }

    [Id(10)]
    public long Privileged { get; set; }

    [Id(11)]
    public long Unprivileged { get; set; }

    [Id(12)]
    public HostSet Hosts { get; set; } = new();

    /// <summary>
    /// Rank for keeping the process among the port's listed ones (Space-Saving: sightings since it was listed, plus the
    /// weight of the process it replaced). Any process with more than 1/N of a transport's sightings stays listed.
    /// </summary>
    [Id(13)]
    public long Weight { get; set; }

    /// <summary>What a runtime runs (a "java" running zookeeper.jar is not one running kafka.Kafka); "" when unknown.</summary>
    [Id(14)]
    public string Program { get; set; } = "";

    /// <summary>The systemd service the process belongs to; "" when none.</summary>
    [Id(15)]
    public string SystemdUnit { get; set; } = "";

    /// <summary>The host groups agents reported the process in, the first <see cref="HostGroupsKept"/>; null in states from before groups.</summary>
    [Id(16)]
    public List<string>? HostGroups { get; set; }

    /// <summary>Enough for the groups of one fleet; a hostile agent cannot grow a process's state beyond it.</summary>
    public const int HostGroupsKept = 16;

    /// <summary>
    /// The last online host listening with the process stopped it: announced gone, and a new life of it when a host
    /// starts it again. (A process whose last hosts were retired is not gone: nothing says it stopped.)
    /// </summary>
    [Id(17)]
    public bool Gone { get; set; }

    /// <summary>How many times the process came back after it was gone: each return is a life of its own in watch event ids.</summary>
    [Id(18)]
    public long Returns { get; set; }

    /// <summary>Hosts with the process listening on the port and transport now (from the hosts' listener changes).</summary>
    [Id(19)]
    public ListenerCounts Listeners { get; set; } = new();

    /// <summary>Whether this life of the process was announced (it reached the verdicts' minimum of hosts): only then is its leaving.</summary>
    [Id(20)]
    public bool Announced { get; set; }

    /// <summary>The most hosts the process was listening on at once.</summary>
    [Id(21)]
    public long PeakHosts { get; set; }

    /// <summary>Distinct hosts known to have run the process: those full reports named, and at least its peak at once.</summary>
    public long KnownHosts => Math.Max(Hosts.Count, PeakHosts);

    /// <summary>How the process is named in verdicts: its name, with what it runs when that is known ("java (zookeeper.jar)").</summary>
    public string DisplayName =>
        Program is { Length: > 0 } ? $"{Name} ({Program})" : SystemdUnit is { Length: > 0 } ? $"{Name} ({SystemdUnit})" : Name;
}

/// <summary>
/// Listeners (hosts listening) now, by whether their host is online or stale and whether they bind more than loopback.
/// Kept exactly: every host passes each change of its listeners on once.
/// </summary>
[GenerateSerializer, Alias("porthistory.ListenerCounts")]
public sealed class ListenerCounts
{
    [Id(0)]
    public long OnlineReachable { get; set; }

    [Id(1)]
    public long OnlineLoopback { get; set; }

    [Id(2)]
    public long StaleReachable { get; set; }

    [Id(3)]
    public long StaleLoopback { get; set; }

    // Counts are kept as they add up (a process pushed out of the listed ones and back can leave one short here and
    // long in "other"), and read as at least zero.
    public long Online => Math.Max(0, OnlineReachable + OnlineLoopback);

    public long Stale => Math.Max(0, StaleReachable + StaleLoopback);

    public long Current => Online + Stale;

    public long Reachable => Math.Max(0, OnlineReachable + StaleReachable);

    /// <summary>Applies <paramref name="hosts"/> changes of one kind.</summary>
    public void Apply(ListenerChangeKind kind, bool reachable, long hosts)
    {
        switch (kind)
        {
            case ListenerChangeKind.Added: ShiftOnline(reachable, hosts); break;
            case ListenerChangeKind.Removed: ShiftOnline(reachable, -hosts); break;
            case ListenerChangeKind.WentStale: ShiftOnline(reachable, -hosts); ShiftStale(reachable, hosts); break;
            case ListenerChangeKind.CameBack: ShiftStale(reachable, -hosts); ShiftOnline(reachable, hosts); break;
            case ListenerChangeKind.RemovedWhileStale: ShiftStale(reachable, -hosts); break;
        }
    }

    public void Add(ListenerCounts other)
    {
        (OnlineReachable, OnlineLoopback) = (OnlineReachable + other.OnlineReachable, OnlineLoopback + other.OnlineLoopback);
        (StaleReachable, StaleLoopback) = (StaleReachable + other.StaleReachable, StaleLoopback + other.StaleLoopback);
    }

    private void ShiftOnline(bool reachable, long delta)
    {
        if (reachable) OnlineReachable += delta;
        else OnlineLoopback += delta;
    }

    private void ShiftStale(bool reachable, long delta)
    {
        if (reachable) StaleReachable += delta;
        else StaleLoopback += delta;
    }
}
