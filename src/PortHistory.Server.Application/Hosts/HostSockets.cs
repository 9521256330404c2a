using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Application.Hosts;

/// <summary>Sockets between the wire (<see cref="HostSocket"/>, processes by name) and host grains (<see cref="HostSocketEntry"/>, processes by id).</summary>
public sealed class HostSockets(IProcessDictionary processes)
{
    /// <summary>The sockets as host grains hold them, each since <paramref name="since"/>.</summary>
    public async Task<HostSocketEntry[]> ToEntriesAsync(IReadOnlyList<HostSocket> sockets, DateTime since, CancellationToken cancellationToken)
    {
        if (sockets.Count == 0) return [];
        var ids = await processes.IdsAsync([.. sockets.Select(s => new ProcessKey(s.ProcessName, s.Executable, s.Program, s.SystemdUnit))], cancellationToken);
        var entries = new HostSocketEntry[sockets.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var s = sockets[i];
            entries[i] = new HostSocketEntry((int)s.Port, s.Transport, ids[i], s.BindScope, s.BindScope == BindScope.Specific ? s.BoundAddress : "", since);
        }

        return entries;
    }

    /// <summary>A full report's sightings as the sockets of their hosts (what differential reporting would have named them).</summary>
    public static HostSocket FromSighting(ValidSighting s) => new()
    {
        Transport = s.Transport,
        Port = (uint)s.Port,
        BindScope = s.BindScope,
        BoundAddress = s.BindScope == BindScope.Specific ? s.LocalAddress : "",
        ProcessName = s.Process,
        Executable = s.Executable,
        Program = s.Program,
        SystemdUnit = s.SystemdUnit,
    };

    /// <summary>The sockets as the wire names them, with since when the host has had each.</summary>
    public async Task<IReadOnlyList<HostSocketSince>> ToWireAsync(IReadOnlyList<HostSocketEntry> entries, CancellationToken cancellationToken)
    {
        var keys = await processes.KeysAsync([.. entries.Select(e => e.ProcessId)], cancellationToken);
        return [.. entries.Select((e, i) => new HostSocketSince
        {
            Socket = new HostSocket
            {
                Transport = e.Transport, Port = (uint)e.Port, BindScope = e.Scope, BoundAddress = e.Address, ProcessName = keys[i].Name,
                Executable = keys[i].Executable, Program = keys[i].Program, SystemdUnit = keys[i].SystemdUnit,
            },
            Since = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(e.Since, DateTimeKind.Utc)),
        })];
    }
}
