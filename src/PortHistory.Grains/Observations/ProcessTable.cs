using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Observations;

/// <summary>
/// A port's transports and, per transport, at most <see cref="MaxProcessesPerTransport"/> processes, with lookups by
/// identity that do not build the stored string key per entry. Whatever agents send, a port keeps that many processes:
/// when a new one comes, the one of least weight makes room and its counts go to "other" (Space-Saving).
/// </summary>
internal sealed class ProcessTable
{
    public const int MaxProcessesPerTransport = 32;

    internal const string OtherName = "(other)";

    private readonly ObservedUsage _usage;
    private readonly TransportUsage?[] _transports = new TransportUsage?[(int)Transport.Dccp + 1];
    private readonly Dictionary<(Transport, string, string, string, string), ProcessUsage> _processes = [];

    public ProcessTable(ObservedUsage usage)
    {
        _usage = usage;
        foreach (var transport in usage.Transports)
        {
            MoveLegacyHosts(transport.LegacyHosts, transport.Hosts, HostSetLimits.Transport);
            transport.LegacyHosts = null;
            transport.Listeners ??= new ListenerCounts();
            _transports[(int)transport.Transport] = transport;
            foreach (var process in transport.Processes.Values)
            {
                MoveLegacyHosts(process.LegacyHosts, process.Hosts, HostSetLimits.Process);
                process.LegacyHosts = null;
                process.Listeners ??= new ListenerCounts();
                // States written before programs and units were kept have null there.
                (process.Program, process.SystemdUnit) = (process.Program ?? "", process.SystemdUnit ?? "");
                _processes[(transport.Transport, process.Name, process.Executable, process.Program, process.SystemdUnit)] = process;
            }

            if (transport.Other is { } other) other.Listeners ??= new ListenerCounts();
        }
    }

    public TransportUsage? Find(Transport transport) => _transports[(int)transport];

    /// <summary>The transport's usage, made on first use; <paramref name="created"/> tells whether it was.</summary>
    public TransportUsage GetOrAddTransport(Transport transport, DateTime at, out bool created)
    {
        created = false;
        if (_transports[(int)transport] is { } known) return known;
        var usage = new TransportUsage { Transport = transport, FirstSeen = at, LastSeen = at };
        _usage.Transports.Add(usage);
        _transports[(int)transport] = usage;
        created = true;
        return usage;
    }

    public ProcessUsage? Find(Transport transport, string name, string executable, string program, string unit) =>
        _processes.GetValueOrDefault((transport, name, executable, program, unit));

    /// <summary>The process, made (making room if the transport holds its maximum) when it is not listed.</summary>
    public ProcessUsage GetOrAdd(TransportUsage transport, string name, string executable, string program, string unit, DateTime at)
    {
        if (_processes.TryGetValue((transport.Transport, name, executable, program, unit), out var process)) return process;
        process = new ProcessUsage { Name = name, Executable = executable, Program = program, SystemdUnit = unit, FirstSeen = at, LastSeen = at };
        if (transport.Processes.Count >= MaxProcessesPerTransport) process.Weight = Evict(transport);
        transport.Processes[Key(process)] = process;
        _processes[(transport.Transport, name, executable, program, unit)] = process;
        return process;
    }

    /// <summary>The process of least weight makes room, its counts go to "other", and the newcomer starts from its weight.</summary>
    private long Evict(TransportUsage transport)
    {
        var (key, least) = transport.Processes.MinBy(p => p.Value.Weight);
        transport.Processes.Remove(key);
        _processes.Remove((transport.Transport, least.Name, least.Executable, least.Program, least.SystemdUnit));
        transport.Other = Fold(transport.Other, least);
        transport.OtherProcesses++;
        return least.Weight;
    }

    /// <summary>
    /// Notes a host group the process was reported in; true when it is one not seen before (it may bring the process
    /// under a group's expectation). At most <see cref="ProcessUsage.HostGroupsKept"/> are kept.
    /// </summary>
    public static bool NoteGroup(ProcessUsage process, string? group)
    {
        if (group is not { Length: > 0 } || process.HostGroups?.Contains(group, StringComparer.OrdinalIgnoreCase) == true
            || (process.HostGroups?.Count ?? 0) >= ProcessUsage.HostGroupsKept)
        {
            return false;
        }

        (process.HostGroups ??= []).Add(group);
        return true;
    }

    /// <summary>Adds a process's counts into an "other" aggregate.</summary>
    public static ProcessUsage Fold(ProcessUsage? other, ProcessUsage process)
    {
        other ??= new ProcessUsage { Name = OtherName, FirstSeen = process.FirstSeen, LastSeen = process.LastSeen, Gone = process.Gone };
        other.Gone &= process.Gone;
        other.Hosts.UnionWith(process.Hosts, HostSetLimits.Process);
        other.Sightings += process.Sightings;
        other.Listeners.Add(process.Listeners);
        if (process.FirstSeen < other.FirstSeen) other.FirstSeen = process.FirstSeen;
        if (process.LastSeen > other.LastSeen) other.LastSeen = process.LastSeen;
        (other.Wildcard, other.Loopback, other.Specific) = (other.Wildcard + process.Wildcard, other.Loopback + process.Loopback, other.Specific + process.Specific);
        (other.Privileged, other.Unprivileged) = (other.Privileged + process.Privileged, other.Unprivileged + process.Unprivileged);
        return other;
    }

    /// <summary>The stored key; a process without program and unit keeps the key states had before they were kept.</summary>
    private static string Key(ProcessUsage process) =>
        process.Program.Length == 0 && process.SystemdUnit.Length == 0
            ? process.Name + "\0" + process.Executable
            : process.Name + "\0" + process.Executable + "\0" + process.Program + "\0" + process.SystemdUnit;

    private static void MoveLegacyHosts(HashSet<ulong>? legacy, HostSet into, HostSetLimits limits)
    {
        if (legacy is null) return;
        foreach (var host in legacy) into.Add(host, limits);
    }
}
