using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Observations;

/// <summary>
/// The history of full reports on a port: how often each process was seen, how it was bound, with what privileges,
/// by which hosts (exact to a limit, then a sketch). Which hosts listen now comes from listener changes instead.
/// </summary>
internal static class SightingCounts
{
    public static void Add(ProcessTable table, ObservationEntry entry, ref bool verdictInputsChanged)
    {
        var transport = table.GetOrAddTransport(entry.Transport, entry.ObservedAt, out var created);
        if (created) verdictInputsChanged = true;
        transport.Hosts.Add(entry.HostHash, HostSetLimits.Transport);
        transport.Sightings++;
        if (entry.ObservedAt < transport.FirstSeen) transport.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > transport.LastSeen) transport.LastSeen = entry.ObservedAt;

        // An entry from a silo that predates programs and units has null there.
        var process = table.GetOrAdd(transport, entry.Process, entry.Executable, entry.Program ?? "", entry.SystemdUnit ?? "", entry.ObservedAt);
        if (process.Hosts.Add(entry.HostHash, HostSetLimits.Process) && process.HostRefs.Count < ProcessUsage.HostRefsKept && !process.HostRefs.Contains(entry.HostRef)) process.HostRefs.Add(entry.HostRef);

        if (ProcessTable.NoteGroup(process, entry.HostGroup)) verdictInputsChanged = true;

        process.Sightings++;
        process.Weight++;
        if (entry.ObservedAt < process.FirstSeen) process.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > process.LastSeen) process.LastSeen = entry.ObservedAt;
        switch (entry.Scope)
        {
            case BindScope.Wildcard: process.Wildcard++; break;
            case BindScope.Loopback: process.Loopback++; break;
            default: process.Specific++; break;
        }

        if (entry.Privileged) process.Privileged++;
        else process.Unprivileged++;
    }
}
